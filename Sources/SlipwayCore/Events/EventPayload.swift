import Foundation

/// What an event says, typed by family. The `type` string names the family and the change
/// (`instance.started`); each family has its own payload fields.
public enum EventPayload: Sendable, Equatable {
    case deployment(Deployment)
    case instance(Instance)
    case backup(Backup)
    case drill(Drill)
    case maintenance(Maintenance)
    case lock(Lock)
    case router(Router)
    case config(Config)
    case canary(Canary)
    case alert(Alert)
    case incident(Incident)
    case fleet(Fleet)

    /// A payload family whose change (`created`, `crashed`, …) is named in the event's type, not its payload.
    protocol Changing: Decodable {
        associatedtype Change: RawRepresentable where Change.RawValue == String
        var change: Change { get set }
    }

    /// An alert changed state (`alert.pending|firing|resolved`) or was silenced (`alert.silenced`).
    public struct Alert: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case pending, firing, repeated, resolved, silenced }
        public var change: Change = .firing
        public var name: String
        public var severity: Severity
        public var summary: String
        public var runbook: String?
        public init(change: Change, name: String, severity: Severity, summary: String, runbook: String? = nil) {
            self.change = change
            self.name = name
            self.severity = severity
            self.summary = summary
            self.runbook = runbook
        }
        enum CodingKeys: String, CodingKey { case name, severity, summary, runbook }
    }

    /// An incident opened, was joined by another trigger, changed status, or got a note.
    public struct Incident: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case opened, joined, acknowledged, mitigated, resolved, closed, note }
        public var change: Change = .opened
        public var incidentId: Int64
        public var title: String
        public var severity: Severity
        public var status: IncidentInfo.Status
        public var detail: String
        public var actor: String?
        public init(change: Change, incidentId: Int64, title: String, severity: Severity, status: IncidentInfo.Status, detail: String, actor: String? = nil) {
            self.change = change
            self.incidentId = incidentId
            self.title = title
            self.severity = severity
            self.status = status
            self.detail = detail
            self.actor = actor
        }
        enum CodingKeys: String, CodingKey { case incidentId = "incident_id", title, severity, status, detail, actor }
    }

    /// A deployment's state change (`deployment.transition`) or progress note (`deployment.note`).
    public struct Deployment: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case transition, note }
        /// In the event's `type` (`deployment.transition`), not in its payload.
        public var change: Change = .transition
        public var state: DeploymentState
        public var version: String
        public var kind: DeploymentKind
        public var detail: String
        public init(change: Change, state: DeploymentState, version: String, kind: DeploymentKind, detail: String) {
            self.change = change
            self.state = state
            self.version = version
            self.kind = kind
            self.detail = detail
        }
        enum CodingKeys: String, CodingKey { case state, version, kind, detail }
    }

    public struct Instance: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case started, ready, notReady = "not_ready", notLive = "not_live", crashed, restarted, stopped }
        public var change: Change = .started
        public var release: String
        public var slot: Int
        public var pid: Int32
        public var port: Int
        public var restarts: Int?
        public init(change: Change, release: String, slot: Int, pid: Int32, port: Int, restarts: Int? = nil) {
            self.change = change
            self.release = release
            self.slot = slot
            self.pid = pid
            self.port = port
            self.restarts = restarts
        }
        enum CodingKeys: String, CodingKey { case release, slot, pid, port, restarts }
    }

    public struct Backup: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case created, failed, verified, pruned }
        public var change: Change = .created
        public var backupId: String?
        public var reason: String?
        public var bytes: Int64?
        public var ok: Bool
        public var detail: String
        public init(change: Change, backupId: String?, reason: String? = nil, bytes: Int64? = nil, ok: Bool, detail: String) {
            self.change = change
            self.backupId = backupId
            self.reason = reason
            self.bytes = bytes
            self.ok = ok
            self.detail = detail
        }
        enum CodingKeys: String, CodingKey { case backupId = "backup_id", reason, bytes, ok, detail }
    }

    public struct Drill: Codable, Sendable, Equatable {
        public var backupId: String
        public var ok: Bool
        public var rtoMs: Int
        public var rpoSeconds: Int
        public var message: String?
        public init(backupId: String, ok: Bool, rtoMs: Int, rpoSeconds: Int, message: String?) {
            self.backupId = backupId
            self.ok = ok
            self.rtoMs = rtoMs
            self.rpoSeconds = rpoSeconds
            self.message = message
        }
        enum CodingKeys: String, CodingKey { case backupId = "backup_id", ok, rtoMs = "rto_ms", rpoSeconds = "rpo_seconds", message }
    }

    public struct Maintenance: Codable, Sendable, Equatable {
        /// `on`, `paused`, or nil when traffic flows again.
        public var mode: MaintenanceMode.Mode?
        public var detail: String
        public init(mode: MaintenanceMode.Mode?, detail: String) {
            self.mode = mode
            self.detail = detail
        }
    }

    public struct Lock: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case takeover, lost, released }
        public var change: Change = .takeover
        public var holder: String
        public var detail: String
        public init(change: Change, holder: String, detail: String) {
            self.change = change
            self.holder = holder
            self.detail = detail
        }
        enum CodingKeys: String, CodingKey { case holder, detail }
    }

    public struct Router: Codable, Sendable, Equatable {
        public var pid: Int
        public var detail: String
        public init(pid: Int, detail: String) {
            self.pid = pid
            self.detail = detail
        }
    }

    public struct Config: Codable, Sendable, Equatable {
        public var file: String
        public var detail: String
        public init(file: String, detail: String) {
            self.file = file
            self.detail = detail
        }
    }

    /// A canary's decisions: `canary.started`, `canary.step` (its weight changed), `canary.held` (a step
    /// waits for traffic, with the ETA), `canary.promoted`, `canary.aborted` — with the analysis behind it.
    public struct Canary: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case started, step, held, promoted, aborted }
        public var change: Change = .started
        public var release: String
        public var stable: String
        /// 1-based, as people count steps.
        public var step: Int
        public var weight: Int
        public var detail: String
        public var analysis: CanaryAnalysis?
        public init(change: Change, release: String, stable: String, step: Int, weight: Int, detail: String, analysis: CanaryAnalysis? = nil) {
            self.change = change
            self.release = release
            self.stable = stable
            self.step = step
            self.weight = weight
            self.detail = detail
            self.analysis = analysis
        }
        enum CodingKeys: String, CodingKey { case release, stable, step, weight, detail, analysis }
    }

    /// A fleet deploy's progress, kept in the shared state (`state.postgres`): `fleet.started`, `fleet.progress` (a
    /// line of its log, as the operator saw it), `fleet.finished` (with the outcome's state).
    public struct Fleet: Codable, Sendable, Equatable, Changing {
        public enum Change: String, Codable, Sendable { case started, progress, finished }
        public var change: Change = .progress
        /// The fleet deployment's id (`fd-…`).
        public var deployment: String
        public var version: String
        /// `fleet.finished`: succeeded, failed, rolled_back, partial or refused.
        public var state: String?
        public var detail: String
        public init(change: Change, deployment: String, version: String, state: String? = nil, detail: String) {
            self.change = change
            self.deployment = deployment
            self.version = version
            self.state = state
            self.detail = detail
        }
        enum CodingKeys: String, CodingKey { case deployment, version, state, detail }
    }
}
