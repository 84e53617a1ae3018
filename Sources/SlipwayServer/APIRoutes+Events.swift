import Foundation
import Hummingbird
import SlipwayCore
import SlipwayEngine

extension APIRoutes {
    /// `GET /v1/events?since=ID|since_time=ISO&env=E&limit=N&wait_ms=W`: a page of the event log, oldest
    /// first; `wait_ms` makes an empty answer wait for the next event (how `slipway events --follow` streams).
    static func addEventRoutes(_ v1: RouterGroup<SlipwayRequestContext>, engine: Engine) {
        v1.get("events") { request, _ in
            let q = request.uri.queryParameters
            var since: Int64?
            if let text = q.get("since") {
                guard let id = Int64(text), id >= 0 else { throw SlipwayError.usage("since: expected an event id (a whole number), got '\(text)'") }
                since = id
            }
            var sinceTime: Date?
            if let text = q.get("since_time") {
                guard let date = SlipwayJSON.parseDate(text) else {
                    throw SlipwayError.usage("since_time: expected an ISO 8601 time like 2026-11-26T10:00:00Z, got '\(text)'")
                }
                sinceTime = date
            }
            let limit = q.get("limit").flatMap { Int($0) } ?? 100
            let waitMs = min(60_000, max(0, q.get("wait_ms").flatMap { Int($0) } ?? 0))
            return APIResponse.json(try await engine.events.page(since: since, sinceTime: sinceTime, environment: q.get("env"), limit: limit,
                                                               wait: .milliseconds(waitMs)))
        }
    }
}
