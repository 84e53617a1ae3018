import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Signals {
    /// Request-based alert rules hold below this many requests in the window.
    static let alertMinRequests = 20

    /// Judges every alert in every environment (the `alerts` periodic job, every `Cadence.alerts`); a
    /// change of state is saved with its event in one transaction.
    func evaluateAlerts(now: Date) async {
        if let last = lastAlertRun, now.timeIntervalSince(last) < context.cadence.alerts.seconds { return }
        lastAlertRun = now
        let cfg = config
        let stats = try? await router.stats()
        if let stats { traffic.record(stats, now: now) }
        let disk = Self.diskFree(cfg.root)
        // The certificates as the router serves them: the per-root router's, or this app's on a shared edge
        // (whose files and ACME state live under the edge's directory, not this root).
        let certificates = cfg.environments.values.contains { $0.router.tls != nil } ? try? await router.certificates() : nil
        for name in cfg.environmentNames {
            guard let env = cfg.environments[name] else { continue }
            var sample = await alertSample(env, stats: stats, now: now)
            sample.diskFree = disk
            autoscaleStep(env, sample: sample, now: now)
            var resolvedAlert: String?
            // Only this pass writes alert rows (the `alerts` job runs one pass at a time): read them once
            // and keep the copy current as the pass saves.
            var states = (try? store.signals.alertStates(environment: name)) ?? [:]
            for alert in AlertSettings.builtIns + cfg.alerts {
                var s = sample
                if let p = alert.prometheus { s.value = await MetricProviders.readProvider(p, timeout: .seconds(2)).value }
                let key = "\(name)/\(alert.name)"
                let (condition, summary, value) = judge(alert, env: env, sample: s, certificates: certificates, key: key, now: now)
                alertReadings[key] = (value, summary)
                let stored = states[key]
                var tracker = stored?.tracker ?? AlertTracker(since: now)
                guard let moved = tracker.observe(condition, at: now, pendingFor: alert.pendingFor, keepFiringFor: alert.keepFiringFor) else {
                    if let info = stored?.info, tracker.repeatDue(at: now, every: alert.repeatEvery) {
                        let since = tracker.firedAt.map { $0.formatted(Date.ISO8601FormatStyle()) } ?? "?"
                        let event = Event(time: now, environment: name, payload: .alert(.init(change: .repeated, name: alert.name, severity: alert.severity,
                                                                                             summary: "since \(since): \(summary)", runbook: alert.runbook)))
                        if logger.write("save a repeated alert", to: store, { () throws(SlipwayError) in try store.signals.saveAlert(info, tracker: tracker, event: event) }) != nil {
                            states[key] = (info, tracker)
                        }
                    } else if let info = stored?.info, tracker != stored?.tracker {
                        // No change of state, but its clocks moved (the condition turned false while firing): kept, or
                        // keep_firing_for would start again at every pass and the alert would never resolve.
                        if logger.write("save alert \(key)'s tracker", to: store, { () throws(SlipwayError) in try store.signals.saveAlert(info, tracker: tracker) }) != nil {
                            states[key] = (info, tracker)
                        }
                    }
                    continue
                }
                var info = stored?.info ?? AlertInfo(environment: name, name: alert.name, severity: alert.severity, state: moved, since: now,
                                                     expr: alert.rule.text, summary: summary, builtIn: alert.builtIn != nil)
                info.severity = alert.severity
                info.state = moved
                info.since = now
                info.firedAt = tracker.firedAt
                info.resolvedAt = tracker.resolvedAt
                info.summary = summary
                info.value = value
                info.runbook = alert.runbook
                let change: EventPayload.Alert.Change? = switch moved {
                case .pending: .pending
                case .firing: .firing
                case .resolved: .resolved
                case .inactive: nil
                }
                let event = change.map { Event(time: now, environment: name, payload: .alert(.init(change: $0, name: alert.name, severity: alert.severity,
                                                                                                   summary: summary, runbook: alert.runbook))) }
                guard logger.write("save the state of alert \(key)", to: store, { () throws(SlipwayError) in
                    try store.signals.saveAlert(info, tracker: tracker, event: event)
                }) != nil else { continue }
                states[key] = (info, tracker)
                if moved == .firing || moved == .resolved {
                    logger.warning("alert \(moved.rawValue)", metadata: ["alert.env": "\(name)", "alert.name": "\(alert.name)",
                                                                        "alert.severity": "\(alert.severity.rawValue)", "alert.summary": "\(summary)"])
                }
                if moved == .firing, alert.severity.meets(.p1) {
                    if alert.builtIn == .automaticRollback, let rollback = automaticRollback(name, now: now) {
                        await raiseIncident(name, severity: alert.severity, title: "automatic rollback in \(name)", trigger: "automatic rollback: \(summary)",
                                            cause: .automaticRollback(rollback), now: now)
                    } else {
                        await raiseIncident(name, severity: alert.severity, title: "\(alert.name) in \(name)", trigger: "alert \(alert.name): \(summary)",
                                            cause: .alert(alert.name), now: now)
                    }
                }
                if moved == .resolved { resolvedAlert = alert.name }
            }
            let firingSevere = states.values.contains { $0.info.state == .firing && $0.info.severity.meets(.p1) }
            followIncidents(name, stats: stats, firingSevere: firingSevere, resolvedAlert: resolvedAlert, now: now)
        }
    }

    /// The live release's traffic (the router's 1-minute window), its instances' use and restarts, and the
    /// environment's last backup.
    private func alertSample(_ env: EnvironmentConfig, stats: RouterStatsReport?, now: Date) async -> MetricSample {
        let record = try? store.environment(env.name)
        guard let release = record?.currentRelease else { return MetricSample() }
        // Every serving instance is read (a canary's too, for `status` and the dashboard); the alert counts the live release's.
        let serving = ((try? store.instances(environment: env.name)) ?? []).filter { $0.state != .standby && $0.state != .stopping }
        let instances = serving.filter { $0.release == release }
        let used = await supervisor.resources(serving, of: release)
        for (id, u) in used.perInstance { instanceUsage[id] = InstanceUsage(cpu: u.cpu, rss: u.rss) }
        let pool = stats?[env.name]?[release]
        var sample = (pool?.windows["1m"].map { MetricSample($0, seconds: 60) } ?? MetricSample(rps: 0))
            .with(used, restarts: instances.reduce(0) { $0 + $1.restarts }, memoryLimit: env.process.memoryLimit)
        if let newest = (try? store.data.backups(environment: env.name))?.map(\.createdAt).max() { sample.backupAge = now.timeIntervalSince(newest) }
        return sample
    }

    /// Whether the alert's condition holds now (nil: cannot tell), a line for people, and the value it saw.
    private func judge(_ alert: AlertSettings, env: EnvironmentConfig, sample: MetricSample, certificates: [CertificateInfo]?, key: String,
                       now: Date) -> (Bool?, String, String?) {
        if let builtIn = alert.builtIn, builtIn != .crashLoop {
            return judgeBuiltIn(builtIn, env: env, served: certificates?.first { $0.environment == env.name }, now: now)
        }
        var evaluator = alertEvaluators[key] ?? RuleEvaluator(rules: [alert.rule], minRequests: Self.alertMinRequests)
        let verdict = evaluator.observe(sample, baseline: nil, at: now).first
        alertEvaluators[key] = evaluator
        switch verdict {
        case .fail(let e), .pass(let e):
            let observed = CanaryJudge.format(e.observed, alert.rule), threshold = CanaryJudge.format(e.threshold, alert.rule)
            let holds: Bool
            if case .fail = verdict { holds = true } else { holds = false }
            let requests = e.requests.map { " over \($0) requests in the last minute" } ?? ""
            return (holds, "\(alert.rule.metric) \(observed) (\(holds ? "" : "not ")\(alert.rule.comparison.rawValue) \(threshold))\(requests)", observed)
        case .hold(let why):
            return (nil, "not judged: \(why)", nil)
        case nil:
            return (nil, "not judged", nil)
        }
    }
}
