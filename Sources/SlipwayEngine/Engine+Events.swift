import Foundation
import SlipwayCore
import SlipwayStore

extension Engine {
    /// `GET /v1/events`: the events after `since` (or after the first at `sinceTime`; without either, the
    /// last `limit`). With `wait`, an empty answer waits up to that long for the next event (long poll,
    /// fed by the in-process bus, not by polling the database).
    public nonisolated func eventPage(since: Int64?, sinceTime: Date?, environment: String?, limit: Int,
                                      wait: Duration = .zero) async throws(SlipwayError) -> EventPage {
        if let environment { _ = try await config.environment(environment) }
        let limit = max(1, min(limit, 1000))
        let after: Int64
        if let since { after = since } else if let sinceTime { after = try store.eventId(before: sinceTime) } else {
            // The end of the log is read before the tail: an event written in between is in the tail, or after
            // `next`, never skipped.
            let end = try store.lastEventId()
            let tail = try store.lastEvents(limit, environment: environment)
            return EventPage(events: tail, next: max(tail.last?.id ?? 0, end))
        }
        var events = try store.events(after: after, environment: environment, limit: limit)
        if events.isEmpty && wait > .zero, try await nextEvent(after: after, environment: environment, within: wait) != nil {
            events = try store.events(after: after, environment: environment, limit: limit)
        }
        return EventPage(events: events, next: events.last?.id ?? after)
    }

    /// The first event after `id` (of `environment`), or nil when none came within `within`.
    nonisolated func nextEvent(after id: Int64, environment: String?, within: Duration) async throws(SlipwayError) -> Event? {
        let feed = store.follow(after: id, environment: environment)
        let result: Result<Event?, any Error> = await withTaskGroup(of: Result<Event?, any Error>?.self) { group in
            group.addTask {
                do {
                    var it = feed.makeAsyncIterator()
                    return .success(try await it.next())
                } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: within)
                return .success(nil)
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .success(nil)
        }
        do { return try result.get() } catch { throw SlipwayError(.internal, "cannot read the event log", cause: error) }
    }
}
