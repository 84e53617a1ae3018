import SlipwayCore
import Synchronization

/// Hands events to in-process subscribers as soon as the transaction that wrote them has committed,
/// so they never poll the database. A subscriber that falls too far behind loses live events, notices
/// the gap in the ids and reads it back from the store (see `EventFeed`).
public final class EventBus: Sendable {
    private struct State {
        var next = 0
        var subscribers: [Int: AsyncStream<Event>.Continuation] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    /// Live events buffered per subscriber before older ones are dropped (and re-read from the store).
    static let buffer = 4096

    public init() {}

    func publish(_ events: [Event]) {
        guard !events.isEmpty else { return }
        let targets = state.withLock { Array($0.subscribers.values) }
        for c in targets { for e in events { c.yield(e) } }
    }

    /// A stream of every event published from now on; it ends when the subscriber drops it.
    func subscribe() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(Self.buffer))
        let id = state.withLock { s -> Int? in
            guard !s.closed else { return nil }
            s.next += 1
            s.subscribers[s.next] = continuation
            return s.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// The daemon is stopping: every live subscription ends (a long poll answers at once instead of
    /// holding the API's shutdown), and new ones end as soon as they have read the store.
    public func close() {
        let all = state.withLock { s in
            s.closed = true
            defer { s.subscribers.removeAll() }
            return Array(s.subscribers.values)
        }
        for c in all { c.finish() }
    }
}
