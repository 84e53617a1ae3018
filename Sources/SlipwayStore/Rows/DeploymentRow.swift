import Foundation
import GRDB
import SlipwayCore

/// A `deployments` row. The API's `DeploymentInfo` is what it holds, not what GRDB reads and writes: a JSON
/// field can be renamed without touching the table, and the columns are named once, here.
struct DeploymentRow: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "deployments"

    enum Columns {
        static let id = Column("id"), environment = Column("environment"), version = Column("version")
        static let previousVersion = Column("previous_version"), kind = Column("kind"), strategy = Column("strategy"), state = Column("state")
        static let actor = Column("actor"), startedAt = Column("started_at"), finishedAt = Column("finished_at"), outcome = Column("outcome")
        static let message = Column("message"), logFile = Column("log_file"), onBehalfOf = Column("on_behalf_of")
        static let commitTime = Column("commit_time"), undoes = Column("undoes"), endReason = Column("end_reason")
    }

    /// Ids are non-optional in the API; 0 means "not inserted yet" and is left to SQLite's autoincrement.
    var info: DeploymentInfo

    init(_ info: DeploymentInfo) { self.info = info }

    init(row: Row) throws {
        info = DeploymentInfo(id: try row.value(Columns.id), environment: try row.value(Columns.environment), version: try row.value(Columns.version),
                              previousVersion: try row.value(Columns.previousVersion), kind: try row.raw(Columns.kind),
                              strategy: try row.raw(Columns.strategy), state: try row.raw(Columns.state), actor: try row.value(Columns.actor),
                              startedAt: try row.value(Columns.startedAt), finishedAt: try row.value(Columns.finishedAt),
                              outcome: try row.value(Columns.outcome), message: try row.value(Columns.message), logFile: try row.value(Columns.logFile),
                              onBehalfOf: try row.value(Columns.onBehalfOf))
        info.commitTime = try row.value(Columns.commitTime)
        info.undoes = try row.value(Columns.undoes)
        info.endReason = try row.raw(Columns.endReason)
    }

    func encode(to container: inout PersistenceContainer) throws {
        if info.id != 0 { container[Columns.id] = info.id }
        container[Columns.environment] = info.environment
        container[Columns.version] = info.version
        container[Columns.previousVersion] = info.previousVersion
        container[Columns.kind] = info.kind.rawValue
        container[Columns.strategy] = info.strategy.rawValue
        container[Columns.state] = info.state.rawValue
        container[Columns.actor] = info.actor
        container[Columns.startedAt] = info.startedAt
        container[Columns.finishedAt] = info.finishedAt
        container[Columns.outcome] = info.outcome
        container[Columns.message] = info.message
        container[Columns.logFile] = info.logFile
        container[Columns.onBehalfOf] = info.onBehalfOf
        container[Columns.commitTime] = info.commitTime
        container[Columns.undoes] = info.undoes
        container[Columns.endReason] = info.endReason?.rawValue
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { info.id = inserted.rowID }
}
