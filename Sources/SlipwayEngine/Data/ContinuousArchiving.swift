import Foundation
import Logging
import SlipwayBackup
import SlipwayCore

/// The daemon's continuous archivers (`backup.continuous`): one per SQLite or PostgreSQL source of each environment
/// that turns it on, started and stopped as the config says (`reconcile`, every few seconds). SQLite's keep their
/// position in `<root>/continuous/<env>-<source>.json`; PostgreSQL's spool the received WAL in
/// `<root>/continuous/<env>-<source>.wal/` (the server's replication slot remembers the rest).
public actor ContinuousArchiving {
    let backups: Backups
    let board: ContinuousBoard
    struct Running {
        var archiver: any ContinuousSourceArchiver
        var task: Task<Void, Never>
        /// What it was started with: a change (path, stores, max_lag) restarts it.
        var signature: String
    }
    var running: [String: Running] = [:]

    init(backups: Backups, board: ContinuousBoard) {
        self.backups = backups
        self.board = board
    }

    /// Starts the archivers the config asks for and stops (awaited) the others.
    public func reconcile() async {
        let cfg = backups.config
        var wanted: [String: (EnvironmentConfig, BackupSourceConfig, BackupSettings)] = [:]
        for name in cfg.environmentNames {
            guard let env = cfg.environments[name], let settings = env.backup else { continue }
            for source in settings.continuousSources { wanted["\(name)/\(source.name)"] = (env, source, settings) }
        }
        for (key, r) in running where wanted[key] == nil || wanted[key].map({ Self.signature($0.1, $0.2) }) != r.signature {
            r.task.cancel()
            await r.task.value
            running[key] = nil
        }
        for (key, (env, source, settings)) in wanted.sorted(by: { $0.key < $1.key }) where running[key] == nil {
            do {
                let service = try backups.service(for: env)
                let archiver: any ContinuousSourceArchiver
                switch source.kind {
                case .sqlite(let path):
                    archiver = service.continuousArchiver(source: source.name, path: path, stateFile: "\(cfg.root)/continuous/\(env.name)-\(source.name).json",
                                                          logger: backups.logger)
                case .postgres(let secret):
                    archiver = try service.walArchiver(source: source.name, urlSecret: secret, spool: "\(cfg.root)/continuous/\(env.name)-\(source.name).wal",
                                                       logger: backups.logger)
                case .mysql, .directory: continue
                }
                running[key] = Running(archiver: archiver, task: Task { await archiver.run() }, signature: Self.signature(source, settings))
            } catch {
                backups.logger.error("continuous archiving cannot start", metadata: ["environment": "\(env.name)", "source": "\(source.name)", "error": "\(error.message)"])
            }
        }
        await publish()
    }

    /// The archivers' statuses as they are now, for `status`, the dashboard and the lag alert (the daemon publishes them
    /// every second).
    public func publish() async { board.publish(await statuses()) }

    /// Stops every archiver after it shipped what it read.
    public func stopAll() async {
        for (_, r) in running { r.task.cancel() }
        for (_, r) in running { await r.task.value }
        running = [:]
    }

    public func statuses() async -> [ContinuousStatus] {
        var out: [ContinuousStatus] = []
        for key in running.keys.sorted() { if let r = running[key] { out.append(await r.archiver.status) } }
        return out
    }

    static func signature(_ source: BackupSourceConfig, _ settings: BackupSettings) -> String {
        "\(source.kind) \(settings.stores.map(\.label)) \(settings.continuousSettings) \(settings.encryptionKeySecret ?? "")"
    }
}
