import Foundation
import SlipwayCore
import NIOSSL
import SlipwayHTTP
import Synchronization

/// `analysis.providers`: asked concurrently once per interval, each within `timeout`, by the canary's
/// analysis, the post-deploy watch and the alerts (`prometheus:` rules). Stateless.
public enum MetricProviders {
    /// The environment's providers this interval (none without `analysis.providers`), each within min(interval, 2 s).
    public static func readProviders(of env: EnvironmentConfig) async -> [ProviderReading] {
        guard let analysis = env.analysis, !analysis.providers.isEmpty else { return [] }
        return await readProviders(analysis.providers, timeout: min(analysis.interval, .seconds(2)))
    }

    static func readProviders(_ providers: [ProviderSettings], timeout: Duration) async -> [ProviderReading] {
        await withTaskGroup(of: (Int, ProviderReading).self) { group in
            for (i, p) in providers.enumerated() {
                group.addTask { (i, await readProvider(p, timeout: timeout)) }
            }
            var out: [(Int, ProviderReading)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// One TLS context per CA file (the system's roots for nil), built once: providers are read every interval.
    static func tlsContext(ca: String?) throws -> NIOSSLContext {
        try providerTLS.withLock { contexts in
            if let known = contexts[ca ?? ""] { return known }
            let made = try MiniHTTPClient.tlsContext(caFile: ca)
            contexts[ca ?? ""] = made
            return made
        }
    }
    nonisolated static let providerTLS = Mutex<[String: NIOSSLContext]>([:])

    static func readProvider(_ p: ProviderSettings, timeout: Duration) async -> ProviderReading {
        let url: HTTPURL, path: String
        switch p.source {
        case .prometheus(let u, let query):
            url = u
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let base = u.path.hasSuffix("/") ? String(u.path.dropLast()) : u.path
            path = base + "/api/v1/query?query=" + (query.addingPercentEncoding(withAllowedCharacters: allowed) ?? query)
        case .web(let u):
            (url, path) = (u, u.path)
        }
        let response: MiniHTTPClient.Response
        do {
            let client = url.tls ? MiniHTTPClient(tls: try tlsContext(ca: p.ca)) : MiniHTTPClient()
            response = try await client.request("GET", .tcp(host: url.host, port: url.port), path: path, timeout: timeout)
        } catch {
            return ProviderReading(name: p.name, error: "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            return ProviderReading(name: p.name, error: "answered \(response.status) \(response.reason)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            return ProviderReading(name: p.name, error: "the answer is not a JSON object")
        }
        switch p.source {
        case .prometheus:
            // A vector's first sample, or a scalar: [time, "42"].
            let data = json["data"] as? [String: Any]
            var pair = data?["result"] as? [Any]
            if let vector = pair as? [[String: Any]] { pair = vector.first?["value"] as? [Any] }
            guard let text = pair?.last as? String, let value = Double(text) else {
                return ProviderReading(name: p.name, error: "the query returned no sample")
            }
            return ProviderReading(name: p.name, value: value)
        case .web:
            return ProviderReading(name: p.name, value: (json["value"] as? NSNumber)?.doubleValue, ok: json["ok"] as? Bool)
        }
    }
}
