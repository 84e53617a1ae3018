import Foundation
import GRDB
import SlipwayCore

/// A `locks` row: the operation holding an environment (`LockInfo` in the API).
struct LockRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "locks"

    enum Columns {
        static let environment = Column("environment"), holder = Column("holder"), deploymentId = Column("deployment_id")
        static let acquiredAt = Column("acquired_at"), heartbeatAt = Column("heartbeat_at")
    }

    var lock: LockInfo

    init(_ lock: LockInfo) { self.lock = lock }

    init(row: Row) throws {
        lock = LockInfo(environment: try row.value(Columns.environment), holder: try row.value(Columns.holder),
                        deploymentId: try row.value(Columns.deploymentId), acquiredAt: try row.value(Columns.acquiredAt),
                        heartbeatAt: try row.value(Columns.heartbeatAt))
    }

    func encode(to container: inout PersistenceContainer) throws {
        container[Columns.environment] = lock.environment
        container[Columns.holder] = lock.holder
        container[Columns.deploymentId] = lock.deploymentId
        container[Columns.acquiredAt] = lock.acquiredAt
        container[Columns.heartbeatAt] = lock.heartbeatAt
    }
}
