import Foundation
import Logging
import SlipwayACME
import SlipwayCore
import SlipwayHTTP

/// On-demand TLS: a certificate for a name at its first handshake, when `OnDemandPolicy` lets the name through
/// and the ask endpoint approves it; never a CA request for a name it refused.
extension ACMEManager {
    func obtainOnDemand(environment: String, name: String, options: ACMEOptions, now: Date = Date()) async -> OnDemandCertificates.Entry? {
        let files = ACMEOptions.onDemandFiles(storage: options.storage, environment: environment, name: name)
        // Issued before (the router restarted): served from disk, renewed by `pass`.
        if let entry = OnDemandCertificates.load(cert: files.cert, key: files.key), entry.notAfter > now { return entry }
        if let running = inFlight[name] { return await running.value }
        let task = Task { await self.obtainNow(environment: environment, name: name, options: options, files: files, now: now) }
        inFlight[name] = task
        let entry = await task.value
        inFlight[name] = nil
        return entry
    }

    private func obtainNow(environment: String, name: String, options: ACMEOptions, files: (cert: String, key: String), now: Date) async -> OnDemandCertificates.Entry? {
        guard let onDemand = options.onDemand else { return nil }
        let key = Self.onDemandKey(environment: environment, name: name)
        // New names in the last hour, every environment on this storage together.
        let inHour = state(options.storage).certificates.filter { $0.key.contains(" ") }.reduce(0) { n, r in
            n + r.value.attempts.filter { now.timeIntervalSince($0) < 3600 }.count
        }
        let decision = OnDemandPolicy.decide(name: name, record: record(key, options), newNamesInHour: inHour, maxPerHour: onDemand.maxPerHour,
                                             refusedUntil: refusedUntil[name], now: now)
        if case .refuse(let why) = decision {
            logger.info("no certificate on demand", metadata: ["acme.name": "\(name)", "acme.reason": "\(why)"])
            return nil
        }
        let approved = await Self.ask(onDemand.ask, name: name)
        // The actor may have changed while the ask endpoint answered: another handshake's attempt is the same task (inFlight), so nothing to re-check but the refusal.
        guard approved.ok else {
            refusedUntil[name] = now.addingTimeInterval(OnDemandPolicy.refusedFor)
            logger.info("the ask endpoint did not approve a certificate on demand; no CA request", metadata: ["acme.name": "\(name)", "acme.answer": "\(approved.answer)"])
            return nil
        }
        guard await attempt(key, names: [name], options: options, certFile: files.cert, keyFile: files.key, now: now) else { return nil }
        return OnDemandCertificates.load(cert: files.cert, key: files.key)
    }

    /// A certificate on demand's record in `state.json`: `environment name` (neither holds a space; an environment
    /// on the shared edge is `app/environment`).
    static func onDemandKey(environment: String, name: String) -> String { environment + " " + name }

    /// `GET ask?domain=NAME`: 200 approves; anything else (or no answer within 5 s) does not.
    static func ask(_ url: String, name: String) async -> (ok: Bool, answer: String) {
        guard let u = URL(string: url), let host = u.host, let scheme = u.scheme?.lowercased() else { return (false, "bad URL") }
        let query = (u.query.map { $0 + "&" } ?? "") + "domain=" + name
        let path = (u.path.isEmpty ? "/" : u.path) + "?" + query
        do {
            let client = scheme == "https" ? MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: nil)) : MiniHTTPClient()
            let r = try await client.request("GET", .tcp(host: host, port: u.port ?? (scheme == "https" ? 443 : 80)), path: path, timeout: .seconds(5))
            return (r.status == 200, "HTTP \(r.status)")
        } catch {
            return (false, "\(error)")
        }
    }
}
