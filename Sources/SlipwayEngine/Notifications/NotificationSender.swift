import Crypto
import Foundation
import SlipwayBackup
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime

/// Sends one notification over its channel and appends the attempt to `logs/notifications.log`. Never
/// writes a secret or a Slack URL anywhere; webhook bodies are signed over `<timestamp>.<body>`.
struct NotificationSender: Sendable {
    let secrets: Secrets
    let directory: String
    let logFile: String
    static let logName = "notifications.log"

    struct Outcome { var delivered: Bool; var error: String? }

    func send(_ n: NotificationInfo, via channel: NotifySettings) async -> Outcome {
        let start = ContinuousClock.now
        var hidden: [String] = []
        let outcome: Outcome
        do {
            switch channel.channel {
            case .webhook(let url, let secretName):
                let secret = try secretName.map { try secrets.resolve([$0], environment: n.environment ?? "")[$0] ?? "" }
                if let secret { hidden.append(secret) }
                outcome = try await post(url, body: n.body, headers: Self.headers(for: n, secret: secret, now: Date()))
            case .slack(let name):
                let url = try secrets.resolve([name], environment: n.environment ?? "")[name] ?? ""
                hidden.append(url)
                let text = try JSONSerialization.data(withJSONObject: ["text": n.text])
                outcome = try await post(url, body: String(decoding: text, as: UTF8.self), headers: [("Content-Type", "application/json")])
            case .command(let argv):
                var env = ProcessInfo.processInfo.environment
                env["SLIPWAY_NOTIFICATION"] = n.body
                env["SLIPWAY_DELIVERY"] = n.key
                env["SLIPWAY_EVENT_TYPE"] = n.eventType
                env["SLIPWAY_SEVERITY"] = n.severity.rawValue
                env["SLIPWAY_TEXT"] = n.text
                let status = try await ProcessSpawner.run(argv: argv, directory: directory, environment: env, logFile: logFile + ".command")
                outcome = Outcome(delivered: status == 0, error: status == 0 ? nil : "exited with status \(status)")
            }
        } catch {
            outcome = Outcome(delivered: false, error: "\(error)")
        }
        let scrubbed = outcome.error.map { text in hidden.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "(secret)") } }
        log(n, outcome: Outcome(delivered: outcome.delivered, error: scrubbed), ms: (ContinuousClock.now - start).seconds * 1000)
        return Outcome(delivered: outcome.delivered, error: scrubbed)
    }

    /// `X-Slipway-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with `X-Slipway-Timestamp`, so a
    /// receiver checks both and refuses an old timestamp (a replay); the delivery id repeats on a retry.
    static func headers(for n: NotificationInfo, secret: String?, now: Date) -> [(String, String)] {
        let timestamp = String(Int(now.timeIntervalSince1970))
        var h = [("Content-Type", "application/json"), ("User-Agent", "slipway"), ("X-Slipway-Event", n.eventType),
                 ("X-Slipway-Delivery", n.key), ("Idempotency-Key", n.key), ("X-Slipway-Timestamp", timestamp)]
        if let secret {
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(n.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
            h.append(("X-Slipway-Signature", "sha256=" + Hex.string(mac)))
        }
        return h
    }

    /// One POST over a fresh connection (HTTPS verified against the system's roots); refused or silent
    /// receivers fail within the timeout instead of holding the outbox.
    private func post(_ url: String, body: String, headers: [(String, String)]) async throws -> Outcome {
        guard let u = URLComponents(string: url), let scheme = u.scheme, ["http", "https"].contains(scheme), let host = u.host, !host.isEmpty else {
            return Outcome(delivered: false, error: "not an http(s) URL")
        }
        let client = scheme == "https" ? MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: nil)) : MiniHTTPClient()
        let path = (u.percentEncodedPath.isEmpty ? "/" : u.percentEncodedPath) + (u.percentEncodedQuery.map { "?\($0)" } ?? "")
        let r = try await client.request("POST", .tcp(host: host, port: u.port ?? (scheme == "https" ? 443 : 80)), path: path,
                                         headers: headers, body: Array(body.utf8), timeout: .seconds(10))
        return Outcome(delivered: (200..<300).contains(r.status), error: (200..<300).contains(r.status) ? nil : "answered \(r.status)")
    }

    private func log(_ n: NotificationInfo, outcome: Outcome, ms: Double) {
        DeployLog(path: logFile).write("\(n.key) \(n.eventType) \(n.severity.rawValue) attempt \(n.attempts + 1): "
            + (outcome.delivered ? "delivered" : "failed: \(outcome.error ?? "?")") + String(format: " (%.0f ms)", ms))
    }
}
