import Foundation
import SlipwayCore
import SlipwayFleet

/// A fleet's records: in the shared state when `state.postgres` is set (every operator sees them), else on this machine.
extension FleetCommand {
    /// The shared state `state.postgres` names, connected (nil: none configured).
    static func shared(_ cfg: SlipwayConfig) async throws -> SharedState? {
        guard let url = try PostgresURL.configured(cfg.state) else { return nil }
        return try await SharedState.connect(url, app: cfg.app)
    }

    /// `body` with the shared state (or nil), its connection closed after.
    static func withShared<T>(_ cfg: SlipwayConfig, _ body: (SharedState?) async throws -> T) async throws -> T {
        let shared = try await shared(cfg)
        do {
            let result = try await body(shared)
            await shared?.close()
            return result
        } catch {
            await shared?.close()
            throw error
        }
    }

    /// Runs `body` journaled in the shared state when there is one: the record written first (or nothing happens), the
    /// lock taken there, progress as events, the outcome and an audit entry after.
    static func journaled(_ shared: SharedState?, _ record: FleetDeploymentRecord, _ deploy: FleetDeploy,
                          _ body: (FleetDeploy) async -> FleetOutcome) async throws -> FleetOutcome {
        guard let shared else { return await body(deploy) }
        let journal = try await SharedJournal(shared, record, warn: say)
        var journaled = deploy
        journaled.shared = shared
        journaled.log = journal.logging(deploy.log)
        let outcome = await body(journaled)
        do { try await journal.finish(outcome) } catch {
            say("warning: the outcome of \(record.id) is not in the shared state: \(error.message)")
        }
        return outcome
    }

    /// What `deploy resume ID` resumes: the shared state's record, else this machine's.
    static func startedRecord(_ id: String, shared: SharedState?, directory: String) async throws -> Record {
        if let shared {
            guard let r = try await shared.deployment(id) else {
                throw SlipwayError.notFound("no fleet deployment \(id) in the shared state (\(shared.url.display)); see slipway history --env ENV")
            }
            return Record(deployment: r.id, environment: r.environment, version: r.version, hosts: r.hosts)
        }
        guard let data = FileManager.default.contents(atPath: "\(directory)/\(id).json"), let r = try? JSONDecoder().decode(Record.self, from: data) else {
            throw SlipwayError.notFound("no record of \(id) on this machine (\(directory)); deploy its version again, or roll it back with deploy rollback \(id)")
        }
        return r
    }

    /// This machine's record of a fleet deployment (no shared state), written before any host is asked.
    static func saveRecord(_ r: Record, directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try JSONEncoder().encode(r).write(to: URL(fileURLWithPath: "\(directory)/\(r.deployment).json"), options: .atomic)
        } catch {
            throw SlipwayError(.internal, "cannot record fleet deployment \(r.deployment) in \(directory) (deploy resume needs it); nothing changed", cause: error)
        }
    }
}
