import Foundation
import SlipwayCore
import Synchronization

/// The continuous archivers' statuses as last published (every reconcile, a few seconds apart), for readers that
/// cannot wait on the archivers themselves: the built-in alert `continuous-archive-lagging`.
public final class ContinuousBoard: Sendable {
    private let latest = Mutex<[ContinuousStatus]>([])

    public init() {}

    func publish(_ statuses: [ContinuousStatus]) { latest.withLock { $0 = statuses } }

    public var statuses: [ContinuousStatus] { latest.withLock { $0 } }

    /// The alert's verdict for one environment's sources: firing when one has waited (or failed) longer than
    /// `max_lag` × 10; a line for people; the worst lag.
    static func judge(_ statuses: [ContinuousStatus], maxLag: Duration?) -> (Bool?, String, String?) {
        guard let maxLag, !statuses.isEmpty else { return (false, "no continuous archiving", nil) }
        let limit = maxLag.seconds * 10
        let late = statuses.filter { ($0.lagSeconds ?? 0) > limit }.sorted { ($0.lagSeconds ?? 0) > ($1.lagSeconds ?? 0) }
        guard let worst = late.first else { return (false, "every continuous source is within \(Self.seconds(limit)) (max_lag × 10)", nil) }
        let which = late.map { s in "\(s.source) is \(Self.seconds(s.lagSeconds ?? 0)) behind" + (s.error.map { ": \($0)" } ?? "") }.joined(separator: "; ")
        return (true, "continuous archive lagging past \(Self.seconds(limit)) (max_lag × 10): \(which); restores to a point cannot reach the newest writes",
                Self.seconds(worst.lagSeconds ?? 0))
    }

    static func seconds(_ s: Double) -> String { String(format: "%.1f s", s) }
}
