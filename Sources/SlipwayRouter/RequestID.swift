import Synchronization

/// Request ids: a random per-process prefix and a counter, unique per router run and cheap to make.
/// The number is formatted only when it is written (into the upstream head) or shown (in an error page).
enum RequestID {
    private static let counter = Atomic<UInt64>(0)
    static let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    static let prefixBytes = Array(prefix.utf8)

    static func next() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }

    static func string(_ n: UInt64) -> String { "\(prefix)-\(String(n, radix: 16))" }
}
