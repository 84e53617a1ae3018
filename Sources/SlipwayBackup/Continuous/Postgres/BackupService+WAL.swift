import Foundation
import Logging
import SlipwayCore

extension BackupService {
    /// The WAL archiver of PostgreSQL source `source` (its URL in secret `urlSecret`), spooling under `spool`.
    public func walArchiver(source: String, urlSecret: String, spool: String, logger: Logger) throws(SlipwayError) -> WALArchiver {
        let url = try context(staging: workDirectory + "/scratch", log: logFile("continuous", source)).url(urlSecret)
        return WALArchiver(place: .init(app: app, environment: environment, source: source, path: url.redacted), url: url, settings: settings.continuousSettings,
                           stores: stores.compactMap { $0 as? any ArchiveObjects }, key: encryptionKey, spool: spool, scratch: workDirectory + "/scratch",
                           logFile: logFile("continuous", "\(environment)-\(source)"), logger: logger)
    }

    /// PostgreSQL source `source` as it was at `time` (nil: the newest archived), copied into `to` (nil: the source's
    /// own database). `launcher`: this binary, to run the scratch server as another user when the daemon is root.
    public func pointInTimePostgres(source: String, urlSecret: String, time: Date?, inclusive: Bool, to: String?, launcher: String?)
        async throws(SlipwayError) -> PostgresPointRestore.Result {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let ctx = try context(staging: workDirectory + "/scratch", log: logFile("restore", "point-\(id)"))
        let url = try ctx.url(urlSecret)
        let target = try SourceArchiver.urlTarget(to.map { .url($0) } ?? .inPlace, source: url, secret: urlSecret)
        return try await PostgresPointRestore.restore(prefix: "continuous/\(app)/\(environment)/\(source)/", time: time, inclusive: inclusive,
                                                      database: url.database, user: url.user ?? "postgres", target: target,
                                                      stores: stores.compactMap { $0 as? any ArchiveObjects }, key: encryptionKey,
                                                      scratch: workDirectory + "/scratch", launcher: launcher, log: ctx.logFile)
    }
}
