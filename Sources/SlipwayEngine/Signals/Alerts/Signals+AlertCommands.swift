import Foundation
import SlipwayCore
import SlipwayStore

extension Signals {
    /// Every alert of every environment (or of one): firing first, then pending, then the rest.
    public func alerts(environment: String?) throws(SlipwayError) -> [AlertInfo] {
        var names = config.environmentNames
        if let environment { names = [try config.environment(environment).name] }
        let states = try store.signals.alertStates(), silences = try store.signals.activeSilences()
        var out: [AlertInfo] = []
        for name in names {
            for alert in AlertSettings.builtIns + config.alerts {
                let key = "\(name)/\(alert.name)"
                var info = states[key]?.info ?? AlertInfo(environment: name, name: alert.name, severity: alert.severity, state: .inactive,
                                                         since: states[key]?.tracker.since ?? Date(), expr: alert.rule.text, summary: "",
                                                         builtIn: alert.builtIn != nil)
                info.severity = alert.severity
                info.expr = alert.rule.text
                info.runbook = alert.runbook
                if let reading = alertReadings[key] {
                    info.summary = reading.summary
                    info.value = reading.value
                }
                if let silence = silences[key] {
                    info.silencedUntil = silence.until
                    info.silenceReason = silence.reason
                }
                out.append(info)
            }
        }
        let rank: [AlertTracker.Phase: Int] = [.firing: 0, .pending: 1, .resolved: 2, .inactive: 3]
        return out.enumerated().sorted { a, b in
            (rank[a.element.state] ?? 9, a.element.severity, a.offset) < (rank[b.element.state] ?? 9, b.element.severity, b.offset)
        }.map(\.element)
    }

    /// `slipway silence ALERT --for 1h --reason R`: its notifications are held back until then. Audited.
    public func silence(_ request: SilenceRequest) throws(SlipwayError) -> AlertInfo {
        let env = try config.environment(request.environment)
        guard let alert = (AlertSettings.builtIns + config.alerts).first(where: { $0.name == request.alert }) else {
            throw .notFound("no alert '\(request.alert)'; slipway alerts lists them")
        }
        guard let d = DurationParsing.parse(request.duration), d > .zero, d <= .seconds(30 * 86_400) else {
            throw .usage("--for: expected a duration up to 30d, like 1h or 30m, got '\(request.duration)'")
        }
        let reason = request.reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw .usage("--reason: say why the alert is silenced") }
        let until = Date().addingTimeInterval(d.seconds)
        try store.signals.addSilence(environment: env.name, alert: alert.name, until: until, reason: reason, actor: request.by.name)
        try store.audit(request.by, action: "alert.silence", target: "\(env.name)/\(alert.name)", outcome: "ok",
                    detail: "for \(DurationParsing.format(d)): \(reason)", after: "silenced until \(until.formatted(Date.ISO8601FormatStyle()))")
        try store.record(Event(environment: env.name, payload: .alert(.init(change: .silenced, name: alert.name, severity: alert.severity,
                                                                       summary: "silenced by \(request.by.name) for \(DurationParsing.format(d)): \(reason)"))))
        guard let info = try alerts(environment: env.name).first(where: { $0.name == alert.name }) else { throw .notFound("no alert '\(alert.name)'") }
        return info
    }
}
