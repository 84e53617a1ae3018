import Foundation
import SlipwayCore

/// The JSON a webhook receives. `id` is the idempotency key: the same notification retried (or resent
/// after a daemon crash between the answer and its record) carries the same id. A group of alerts (`alert.group`)
/// has no single event: its members' own bodies follow it under `notifications`.
struct NotificationBody: Encodable {
    var id: String
    var type: String
    var category: NotificationCategory
    var severity: Severity
    var environment: String?
    var deploymentId: Int64?
    var time: Date
    var text: String
    var event: Event?

    enum CodingKeys: String, CodingKey {
        case id, type, category, severity, environment, time, text, event
        case deploymentId = "deployment_id"
    }
}
