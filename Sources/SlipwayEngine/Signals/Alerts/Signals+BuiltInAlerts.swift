import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayACME

extension Signals {
    /// The built-in alerts, from the environment's records: the last backup attempt, the last verification,
    /// the last drill, and automatic rollbacks in the last ten minutes; the certificate alerts from `served`,
    /// the router's report of the environment's certificate (`judgeExpiring`, `judgeRenewalFailed`).
    func judgeBuiltIn(_ builtIn: AlertSettings.BuiltIn, env: EnvironmentConfig, served: CertificateInfo? = nil, now: Date) -> (Bool?, String, String?) {
        switch builtIn {
        case .backupFailed:
            let last = try? store.signals.latestEvents(environment: env.name, types: ["backup.created", "backup.failed"])
            guard let failed = last?["backup.failed"], failed.id > (last?["backup.created"]?.id ?? 0) else {
                return (false, last?["backup.created"] == nil ? "no backup yet" : "the last backup succeeded", nil)
            }
            return (true, "the last backup failed: \(failed.payload.summary)", nil)
        case .verifyFailed:
            guard let checked = (try? store.data.backups(environment: env.name))?.filter({ $0.verifiedAt != nil }).max(by: { $0.verifiedAt! < $1.verifiedAt! }) else {
                return (false, "no verification yet", nil)
            }
            return checked.verifyOk == false ? (true, "verification of \(checked.id) failed", nil) : (false, "\(checked.id) verified", nil)
        case .drillFailed, .drillOverRTO:
            guard let drill = (try? store.data.drills(environment: env.name, limit: 1))?.first else { return (false, "no drill yet", nil) }
            if builtIn == .drillOverRTO {
                guard drill.rtoMet == false else { return (false, "the last drill met its RTO", nil) }
                return (true, "the last drill restored in \(drill.rtoMs) ms, over its RTO target of \(drill.rtoTargetMs ?? 0) ms", "\(drill.rtoMs) ms")
            }
            guard !drill.ok, drill.rtoMet != false else { return (false, "the last drill passed", nil) }
            return (true, "the last drill failed: \(drill.message ?? "a check failed")", nil)
        case .automaticRollback:
            guard let r = automaticRollback(env.name, now: now) else { return (false, "no automatic rollback in the last 10 minutes", nil) }
            let bad = r.deploymentId.map { "release \(r.release) (deployment \($0))" } ?? "release \(r.release)"
            let by = r.rollback.kind == .rollback ? "deployment \(r.rollback.id) rolled back to \(r.rollback.version)" : "it was reverted"
            return (true, "\(bad) went bad and \(by) automatically: \(Strategies.firstLine(r.rollback.message ?? ""))", nil)
        case .crashLoop:
            return (nil, "judged as a rule", nil)
        case .certificateExpiring:
            return Self.judgeExpiring(env: env, served: served, now: now)
        case .certificateRenewalFailed:
            return Self.judgeRenewalFailed(env: env, served: served, now: now)
        case .accessoryCrashLoop:
            let rows = ((try? store.accessories.all()) ?? []).filter { $0.environment == env.name }
            let looping = rows.filter { r in r.wanted && r.crashes >= 3 && env.accessories.contains { $0.name == r.name } }
            guard !looping.isEmpty else { return (false, env.accessories.isEmpty ? "no accessories" : "no accessory is crash-looping", nil) }
            let which = looping.map { "\($0.name) exited \($0.crashes) times in a row (log: \($0.logFile))" }.joined(separator: "; ")
            return (true, "accessory crash loop: \(which); it is started again after a back-off of up to a minute", "\(looping.map(\.crashes).max() ?? 0)")
        case .processCrashLoop:
            let rows = ((try? store.workers.all(environment: env.name)) ?? []).filter { w in w.state == .running && env.processTypes.contains { $0.name == w.type } }
            let looping = rows.filter { $0.crashes >= 3 }
            guard !looping.isEmpty else { return (false, env.processTypes.isEmpty ? "no process types" : "no process type is crash-looping", nil) }
            let which = looping.map { "\($0.name) exited \($0.crashes) times in a row (log: \($0.logFile))" }.joined(separator: "; ")
            return (true, "process crash loop: \(which); it is started again after a back-off of up to 30 s", "\(looping.map(\.crashes).max() ?? 0)")
        case .continuousLagging:
            return ContinuousBoard.judge(continuousBoard.statuses.filter { $0.environment == env.name },
                                         maxLag: env.backup.flatMap { $0.continuousSources.isEmpty ? nil : $0.continuousSettings.maxLag })
        }
    }

    // The certificate alerts judge what the router (or the shared edge) reports it serves for `env` (`served`). When
    // it reports nothing, the files are read instead: a certificate file of the app's own, or a per-root router's ACME
    // certificate and state under this root. A shared edge keeps its ACME certificates and state under its own state
    // directory (most likely not this daemon's user's to read), so then the alert cannot tell (nil) and stays as it was.

    /// `certificate-expiring`.
    nonisolated static func judgeExpiring(env: EnvironmentConfig, served: CertificateInfo?, now: Date) -> (Bool?, String, String?) {
        let hosts = env.router.route?.hosts ?? []
        guard let tls = env.router.tls else { return (false, "no HTTPS", nil) }
        if let served { return judgeExpiry(served, hosts: hosts, now: now) }
        if let edge = env.router.edge, tls.acme != nil { return (nil, notReported(edge), nil) }
        guard let facts = CertificateFacts(file: tls.certFile) else { return (false, "\(tls.certFile) cannot be read now", nil) }
        // The placeholder an ACME address serves before its first certificate: certificate-renewal-failed speaks for it.
        if facts.isPlaceholder { return (false, "no certificate issued yet (ACME pending)", nil) }
        let judged = CertificateExpiry.judge(hosts: hosts, file: tls.certFile, notAfter: facts.notAfter, now: now)
        return (judged.firing, judged.summary, nil)
    }

    /// `certificate-renewal-failed`.
    nonisolated static func judgeRenewalFailed(env: EnvironmentConfig, served: CertificateInfo?, now: Date) -> (Bool?, String, String?) {
        let hosts = env.router.route?.hosts ?? []
        guard let acme = env.router.tls?.acme else { return (false, "no ACME certificate", nil) }
        let record: CertificateRecord
        if let renewal = served?.acme {
            record = CertificateRecord(renewal, notAfter: renewal.placeholder ? nil : served?.notAfter)
        } else if let edge = env.router.edge {
            return (nil, notReported(edge), nil)
        } else {
            record = ACMEState.load(acme.stateFile).state.certificates[env.name] ?? CertificateRecord()
        }
        let judged = RenewalSchedule.judgeFailure(record, hosts: hosts, now: now)
        return (judged.firing, judged.summary, nil)
    }

    nonisolated static func notReported(_ edge: String) -> String { "not judged: the edge at \(edge) did not report this environment's certificate" }

    /// `certificate-expiring` from the router's report of what it serves.
    nonisolated static func judgeExpiry(_ served: CertificateInfo, hosts: [String], now: Date) -> (Bool?, String, String?) {
        if served.acme?.placeholder == true { return (false, "no certificate issued yet (ACME pending)", nil) }
        guard let notAfter = served.notAfter else { return (false, "\(served.certFile) is not served: \(served.error ?? "unreadable")", nil) }
        let judged = CertificateExpiry.judge(hosts: hosts, file: served.certFile, notAfter: notAfter, now: now)
        return (judged.firing, judged.summary, nil)
    }

    /// The newest automatic rollback in the last ten minutes (a person's abort or rollback is none).
    func automaticRollback(_ environment: String, now: Date) -> AutomaticRollback? {
        AutomaticRollback.latest(in: (try? store.deployments(environment: environment, limit: 20)) ?? [], now: now)
    }

    /// Free share of the filesystem holding `path`.
    nonisolated static func diskFree(_ path: String) -> Double? {
        guard let a = try? FileManager.default.attributesOfFileSystem(forPath: path),
              let free = (a[.systemFreeSize] as? NSNumber)?.doubleValue, let size = (a[.systemSize] as? NSNumber)?.doubleValue, size > 0 else { return nil }
        return free / size
    }
}
