import Foundation
import ServiceLifecycle
import SlipwayCore
import SlipwayStore

/// The event log as the API and the dashboard read it: pages, a long poll, and a live feed. Everything
/// that happens is appended by its owner inside the transaction that made it happen; this reads it.
/// As a `Service` it closes the live feeds when the daemon stops, so no stream outlives it.
public struct EventLog: Service, FeatureObject {
    let context: EngineContext

    public func run() async throws {
        try? await gracefulShutdown()
        store.bus.close()
    }

    /// The newest event's id (0 when the log is empty).
    public func lastEventId() throws(SlipwayError) -> Int64 { try store.lastEventId() }

    /// Every event after `id`, then each new one as it is written, until the daemon stops.
    public func follow(after id: Int64) -> EventFeed { store.follow(after: id) }

    /// One deployment's events whose type starts with `typePrefix` (`canary.`), oldest first.
    public func events(ofDeployment id: Int64, typePrefix: String) throws(SlipwayError) -> [Event] {
        try store.events(ofDeployment: id, typePrefix: typePrefix)
    }

    /// `GET /v1/events`: the events after `since` (or after the first at `sinceTime`; without either, the
    /// last `limit`). With `wait`, an empty answer waits up to that long for the next event (long poll,
    /// fed by the in-process bus, not by polling the database).
    public func page(since: Int64?, sinceTime: Date?, environment: String?, limit: Int,
                     wait: Duration = .zero) async throws(SlipwayError) -> EventPage {
        if let environment { _ = try context.config.environment(environment) }
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
    func nextEvent(after id: Int64, environment: String?, within: Duration) async throws(SlipwayError) -> Event? {
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
