/// One `alerts:` entry: a rule judged per environment on its live release (or on the host, the backups),
/// with how long it must hold before it fires and keeps firing after it stops holding.
public struct AlertSettings: Sendable, Equatable {
    public var name: String
    public var rule: Rule
    public var pendingFor: Duration
    public var keepFiringFor: Duration
    public var severity: Severity
    public var runbook: String?
    /// `repeat:`: while it fires, announce it again this often (`alert.repeated`; 0: once).
    public var repeatEvery: Duration = .seconds(4 * 3600)
    /// `prometheus: { url, query }`: the rule's `value` is this query's result.
    public var prometheus: ProviderSettings?
    /// A built-in alert (no config): judged from the event log and the supervisor, not the rule alone.
    public var builtIn: BuiltIn?

    public enum BuiltIn: String, Sendable, Equatable, CaseIterable {
        case backupFailed = "backup-failed", verifyFailed = "verify-failed", drillFailed = "drill-failed"
        case drillOverRTO = "drill-over-rto", crashLoop = "crash-loop", automaticRollback = "automatic-rollback"
        case certificateExpiring = "certificate-expiring"
        case certificateRenewalFailed = "certificate-renewal-failed"
        case accessoryCrashLoop = "accessory-crash-loop"
        case processCrashLoop = "process-crash-loop"
        case continuousLagging = "continuous-archive-lagging"
    }

    public init(name: String, rule: Rule, pendingFor: Duration = .zero, keepFiringFor: Duration = .zero, severity: Severity,
                runbook: String? = nil, prometheus: ProviderSettings? = nil, builtIn: BuiltIn? = nil) {
        self.name = name
        self.rule = rule
        self.pendingFor = pendingFor
        self.keepFiringFor = keepFiringFor
        self.severity = severity
        self.runbook = runbook
        self.prometheus = prometheus
        self.builtIn = builtIn
    }

    /// The alerts every environment has without configuration. Their rules are what `slipway alerts` shows;
    /// the engine decides them from facts (the last backup, verify and drill; restarts; rollbacks).
    public static let builtIns: [AlertSettings] = {
        func rule(_ text: String) -> Rule { (try? RuleParser.parse(text)) ?? Rule(metric: .value, comparison: .greater, threshold: .absolute(0), text: text) }
        return [
            AlertSettings(name: BuiltIn.backupFailed.rawValue, rule: rule("value > 0"), severity: .p2, builtIn: .backupFailed),
            AlertSettings(name: BuiltIn.verifyFailed.rawValue, rule: rule("value > 0"), severity: .p2, builtIn: .verifyFailed),
            AlertSettings(name: BuiltIn.drillFailed.rawValue, rule: rule("value > 0"), severity: .p2, builtIn: .drillFailed),
            AlertSettings(name: BuiltIn.drillOverRTO.rawValue, rule: rule("value > 0"), severity: .p2, builtIn: .drillOverRTO),
            AlertSettings(name: BuiltIn.crashLoop.rawValue, rule: rule("restarts > 3 in 10m"), severity: .p1, builtIn: .crashLoop),
            AlertSettings(name: BuiltIn.automaticRollback.rawValue, rule: rule("value > 0"), keepFiringFor: .seconds(600), severity: .p1,
                          builtIn: .automaticRollback),
            AlertSettings(name: BuiltIn.certificateExpiring.rawValue, rule: rule("value > 0"), severity: .p1, builtIn: .certificateExpiring),
            AlertSettings(name: BuiltIn.certificateRenewalFailed.rawValue, rule: rule("value > 0"), severity: .p2, builtIn: .certificateRenewalFailed),
            AlertSettings(name: BuiltIn.accessoryCrashLoop.rawValue, rule: rule("value > 0"), severity: .p1, builtIn: .accessoryCrashLoop),
            AlertSettings(name: BuiltIn.processCrashLoop.rawValue, rule: rule("value > 0"), severity: .p1, builtIn: .processCrashLoop),
            AlertSettings(name: BuiltIn.continuousLagging.rawValue, rule: rule("value > 0"), severity: .p2, builtIn: .continuousLagging),
        ]
    }()
}
