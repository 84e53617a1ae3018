import Foundation
import GRDB
import SlipwayCore

extension SlipwayStore {
    /// A deploy that waits for approvals: recorded (with its event) without taking the environment's lock.
    public func insertAwaiting(_ draft: DeploymentInfo, detail: String, logFile: @escaping (Int64) -> String) throws(SlipwayError) -> DeploymentInfo {
        try write(recording: { db, appended in try Self.insertDeploymentRow(db, draft, detail: detail, appended: &appended, logFile: logFile) })
    }

    public func addApproval(_ a: ApprovalInfo) throws(SlipwayError) {
        try write { db in try ApprovalRow(a).insert(db) }
    }

    public func approvals(deployment id: Int64) throws(SlipwayError) -> [ApprovalInfo] {
        try read { db in try ApprovalRow.filter(ApprovalRow.Columns.deploymentId == id).order(ApprovalRow.Columns.time).fetchAll(db).map(\.approval) }
    }

    public func awaitingApproval() throws(SlipwayError) -> [DeploymentInfo] {
        try read { db in
            try DeploymentRow.filter(DeploymentRow.Columns.state == DeploymentState.awaitingApproval.rawValue).order(DeploymentRow.Columns.id).fetchAll(db).map(\.info)
        }
    }
}
