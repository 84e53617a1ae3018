import Foundation
import GRDB
import SlipwayCore

extension ApprovalInfo: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "approvals"
}

extension SlipwayStore {
    /// A deploy that waits for approvals: recorded (with its event) without taking the environment's lock.
    public func insertAwaiting(_ draft: DeploymentInfo, detail: String, logFile: @escaping (Int64) -> String) throws(SlipwayError) -> DeploymentInfo {
        try write(recording: { db, appended in try Self.insertDeploymentRow(db, draft, detail: detail, appended: &appended, logFile: logFile) })
    }

    public func addApproval(_ a: ApprovalInfo) throws(SlipwayError) {
        try write { db in try a.insert(db) }
    }

    public func approvals(deployment id: Int64) throws(SlipwayError) -> [ApprovalInfo] {
        try read { db in try ApprovalInfo.filter(Column("deployment_id") == id).order(Column("time")).fetchAll(db) }
    }

    public func awaitingApproval() throws(SlipwayError) -> [DeploymentInfo] {
        try read { db in try DeploymentInfo.filter(Column("state") == DeploymentState.awaitingApproval.rawValue).order(Column("id")).fetchAll(db) }
    }
}
