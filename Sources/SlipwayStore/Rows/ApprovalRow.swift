import Foundation
import GRDB
import SlipwayCore

/// An `approvals` row: one person's decision on a deploy (`ApprovalInfo` in the API).
struct ApprovalRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "approvals"

    enum Columns {
        static let deploymentId = Column("deployment_id"), user = Column("user"), decision = Column("decision"), comment = Column("comment")
        static let time = Column("time"), digest = Column("digest")
    }

    var approval: ApprovalInfo

    init(_ approval: ApprovalInfo) { self.approval = approval }

    init(row: Row) throws {
        approval = ApprovalInfo(deploymentId: try row.value(Columns.deploymentId), user: try row.value(Columns.user),
                                decision: try row.value(Columns.decision), comment: try row.value(Columns.comment), time: try row.value(Columns.time),
                                digest: try row.value(Columns.digest))
    }

    func encode(to container: inout PersistenceContainer) throws {
        container[Columns.deploymentId] = approval.deploymentId
        container[Columns.user] = approval.user
        container[Columns.decision] = approval.decision
        container[Columns.comment] = approval.comment
        container[Columns.time] = approval.time
        container[Columns.digest] = approval.digest
    }
}
