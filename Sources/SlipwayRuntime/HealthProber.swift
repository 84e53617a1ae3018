import Foundation
import SlipwayCore
import SlipwayHTTP

/// HTTP GET on an instance's readiness path; 2xx is ready.
public struct HealthProber: Sendable {
    let client = MiniHTTPClient()
    public init() {}

    public func probe(port: Int, path: String, timeout: Duration) async -> ProbeResult {
        do {
            let r = try await client.request("GET", .tcp(host: "127.0.0.1", port: port), path: path, timeout: timeout)
            let body = r.bodyText.prefix(200).trimmingCharacters(in: .whitespacesAndNewlines)
            let detail = "\(r.status) \(r.reason)" + (body.isEmpty ? "" : ": \(body)")
            return ProbeResult(success: (200..<300).contains(r.status), detail: detail)
        } catch {
            return ProbeResult(success: false, detail: "\(error)")
        }
    }
}
