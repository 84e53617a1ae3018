import Synchronization

/// A clock whose sleeps return at once after moving its time forward: a whole health gate
/// (interval, deadline) runs instantly and deterministically.
final class TestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let time = Mutex(Instant(offset: .zero))
    private let sleepCount = Atomic<Int>(0)

    var now: Instant { time.withLock { $0 } }
    var minimumResolution: Duration { .zero }
    var sleeps: Int { sleepCount.load(ordering: .relaxed) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        sleepCount.add(1, ordering: .relaxed)
        time.withLock { if $0 < deadline { $0 = deadline } }
    }
}
