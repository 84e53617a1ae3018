import Foundation
import GRDB
import SlipwayCore

/// A `deployment_events` row: one step of a deployment's progress (`DeploymentEvent` in the API).
struct DeploymentEventRow: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "deployment_events"

    enum Columns {
        static let seq = Column("seq"), deploymentId = Column("deployment_id"), time = Column("time"), actor = Column("actor")
        static let state = Column("state"), detail = Column("detail")
    }

    var event: DeploymentEvent

    init(_ event: DeploymentEvent) { self.event = event }

    init(row: Row) throws {
        event = DeploymentEvent(seq: try row.value(Columns.seq), deploymentId: try row.value(Columns.deploymentId), time: try row.value(Columns.time),
                                actor: try row.value(Columns.actor), state: try row.raw(Columns.state), detail: try row.value(Columns.detail))
    }

    func encode(to container: inout PersistenceContainer) throws {
        if event.seq != 0 { container[Columns.seq] = event.seq }
        container[Columns.deploymentId] = event.deploymentId
        container[Columns.time] = event.time
        container[Columns.actor] = event.actor
        container[Columns.state] = event.state.rawValue
        container[Columns.detail] = event.detail
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { event.seq = inserted.rowID }
}
