import Foundation
import SlipwayCore
import SlipwayHTTP

/// HTTP GET on an instance's readiness path; 2xx is ready. The supervisor's prober keeps one connection per
/// instance alive between probes; a deployment's gate opens a fresh one per probe.
public struct HealthProber: Sendable {
    let client = MiniHTTPClient()
    let kept: KeepAliveProbeClient?

    public init(keepAlive: Bool = false) {
        kept = keepAlive ? KeepAliveProbeClient() : nil
    }

    public func probe(port: Int, path: String, timeout: Duration) async -> ProbeResult {
        do {
            let status: Int, reason: String, text: String
            if let kept {
                let r = try await kept.get(port: port, path: path, timeout: timeout)
                (status, reason, text) = (r.status, r.reason, r.body)
            } else {
                let r = try await client.request("GET", .tcp(host: "127.0.0.1", port: port), path: path, timeout: timeout)
                (status, reason, text) = (r.status, r.reason, r.bodyText)
            }
            let body = text.prefix(200).trimmingCharacters(in: .whitespacesAndNewlines)
            let detail = "\(status) \(reason)" + (body.isEmpty ? "" : ": \(body)")
            return ProbeResult(success: (200..<300).contains(status), detail: detail)
        } catch {
            return ProbeResult(success: false, detail: "\(error)")
        }
    }

    /// Closes a kept connection (the instance on this port stopped).
    public func forget(port: Int) { kept?.forget(port: port) }
}
