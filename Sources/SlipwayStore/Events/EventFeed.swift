import SlipwayCore

/// The events after an id, then every new one as it is written: no gap, no duplicate. It subscribes to
/// the live bus before it reads the backlog, reads the store in pages, and skips live events it has
/// already delivered; a hole in the live ids (events dropped while it lagged) is read back from the store.
public struct EventFeed: AsyncSequence, Sendable {
    public typealias Element = Event
    let store: SlipwayStore
    let after: Int64
    let environment: String?

    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, last: after, environment: environment, live: store.bus.subscribe().makeAsyncIterator())
    }

    public struct Iterator: AsyncIteratorProtocol {
        let store: SlipwayStore
        var last: Int64
        let environment: String?
        var live: AsyncStream<Event>.AsyncIterator
        var pending: [Event] = []
        /// Still reading the backlog from the store (page by page) before switching to live events.
        var catchingUp = true

        public mutating func next() async throws -> Event? {
            while true {
                if !pending.isEmpty {
                    let e = pending.removeFirst()
                    last = e.id
                    if environment == nil || e.environment == environment { return e }
                    continue
                }
                if catchingUp {
                    // Unfiltered pages, so `last` advances past other environments' events too.
                    pending = try store.events(after: last, limit: 500)
                    if pending.isEmpty { catchingUp = false }
                    continue
                }
                guard let e = await live.next() else { return nil }
                if e.id <= last { continue }
                if e.id > last + 1 {
                    // Events between were dropped from the live buffer (or are still committing elsewhere).
                    catchingUp = true
                    continue
                }
                pending = [e]
            }
        }
    }
}
