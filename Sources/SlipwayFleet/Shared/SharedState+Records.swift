import Foundation
import PostgresNIO
import SlipwayCore

/// Fleet deployments and their hosts' results.
extension SharedState {
    /// Records `record` as running under this controller's connection (before any host is asked). An id seen before
    /// (`deploy resume ID`, `deploy rollback ID`) is updated: its kind, holder and state are this run's.
    public func begin(_ record: FleetDeploymentRecord) async throws(SlipwayError) {
        let hosts = String(decoding: try SlipwayJSON.encode(record.hosts, what: "the hosts of \(record.id)"), as: UTF8.self)
        let app = self.app, started = Self.nowMs(record.startedAt)
        try await exec("record fleet deployment \(record.id)", """
            INSERT INTO slipway_fleet_deployments (id, app, environment, version, kind, actor, holder, backend_pid, hosts, state, started_ms)
            VALUES (\(record.id), \(app), \(record.environment), \(record.version), \(record.kind.rawValue), \(record.actor), \(record.holder),
                    pg_backend_pid(), \(hosts), 'running', \(started))
            ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, actor = EXCLUDED.actor, holder = EXCLUDED.holder,
              backend_pid = EXCLUDED.backend_pid, hosts = EXCLUDED.hosts, state = 'running', finished_ms = NULL
            """)
    }

    /// The outcome, and each host's result, in one transaction.
    public func finish(_ outcome: FleetOutcome) async throws(SlipwayError) {
        let json = String(decoding: try SlipwayJSON.encode(outcome, what: "the outcome of \(outcome.deployment)"), as: UTF8.self), now = Self.nowMs()
        try await transaction("record the outcome of \(outcome.deployment)") { c, logger in
            try await c.exec("""
                UPDATE slipway_fleet_deployments SET state = \(outcome.state.rawValue), phase = \(outcome.phase.rawValue), epoch = \(outcome.epoch),
                  message = \(outcome.message), finished_ms = \(now), outcome = \(json) WHERE id = \(outcome.deployment)
                """, logger: logger)
            for h in outcome.hosts {
                try await c.exec("""
                    INSERT INTO slipway_fleet_hosts (deployment, host, state, current, message) VALUES (\(outcome.deployment), \(h.host), \(h.state.rawValue), \(h.current), \(h.message))
                    ON CONFLICT (deployment, host) DO UPDATE SET state = EXCLUDED.state, current = EXCLUDED.current, message = EXCLUDED.message
                    """, logger: logger)
            }
        }
    }

    /// `environment`'s fleet deployments, newest first (nil: every environment of the app).
    public func deployments(environment: String?, limit: Int) async throws(SlipwayError) -> [FleetDeploymentRecord] {
        try await records("read the fleet deployments", """
            SELECT \(unescaped: Self.columns) FROM slipway_fleet_deployments d
            WHERE app = \(app) AND (\(environment)::text IS NULL OR environment = \(environment)) ORDER BY started_ms DESC, id DESC LIMIT \(limit)
            """)
    }

    /// One fleet deployment by id, with its hosts' results.
    public func deployment(_ id: String) async throws(SlipwayError) -> FleetDeploymentRecord? {
        try await records("read fleet deployment \(id)", "SELECT \(unescaped: Self.columns) FROM slipway_fleet_deployments d WHERE app = \(app) AND id = \(id)").first
    }

    /// A running deployment whose controller's connection is gone was interrupted.
    static let columns = """
        id, environment, version, kind, actor, holder, hosts,
        CASE WHEN state = 'running' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = d.backend_pid) THEN 'interrupted' ELSE state END,
        phase, epoch, message, started_ms, finished_ms, outcome, number
        """

    func records(_ what: String, _ query: PostgresQuery) async throws(SlipwayError) -> [FleetDeploymentRecord] {
        let rows = try await run(what, query)
        var out: [FleetDeploymentRecord] = []
        do {
            for try await row in rows {
                let c = row.makeRandomAccess()
                func text(_ i: Int) throws -> String { try c[i].decode(String.self) }
                let (id, env, version, kind, actor, holder, hosts) = (try text(0), try text(1), try text(2), try text(3), try text(4), try text(5), try text(6))
                let (state, phase, epoch, message) = (try text(7), try text(8), try c[9].decode(Int64.self), try text(10))
                let (started, finished, outcome) = (try c[11].decode(Int64.self), try c[12].decode(Int64?.self), try c[13].decode(String?.self))
                var r = FleetDeploymentRecord(id: id, environment: env, version: version, kind: .init(rawValue: kind) ?? .deploy, actor: actor, holder: holder,
                                              hosts: (try? JSONDecoder().decode([String].self, from: Data(hosts.utf8))) ?? [], startedAt: Self.date(started))
                r.number = try c[14].decode(Int64.self)
                r.state = state
                r.phase = phase
                r.epoch = epoch
                r.message = message
                r.finishedAt = finished.map(Self.date)
                r.results = outcome.flatMap { try? JSONDecoder().decode(FleetOutcome.self, from: Data($0.utf8)).hosts } ?? []
                out.append(r)
            }
        } catch { throw failed(what, error) }
        return out
    }
}
