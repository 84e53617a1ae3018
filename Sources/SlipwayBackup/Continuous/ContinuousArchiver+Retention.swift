import Foundation
import Logging
import SlipwayCore

/// What a continuous archive keeps: every generation that began within `keep` (two `snapshot_every` by default), and the newest
/// one before them (it covers the start of that window); older generations are removed from every store after a new
/// one is complete.
extension ContinuousArchiver {
    func pruneGenerations() async {
        let cutoff = now().addingTimeInterval(-settings.window.seconds)
        for store in stores {
            do throws(SlipwayError) {
                let keys = try await store.objects(under: place.prefix)
                let doomed = Self.expired(keys.map { String($0.dropFirst(place.prefix.count)) }, before: cutoff)
                for key in keys where doomed.contains(String(key.dropFirst(place.prefix.count).prefix { $0 != "/" })) {
                    try await store.deleteObject(key)
                }
                if !doomed.isEmpty {
                    logger.info("continuous archive: older generations removed", metadata: ["source": "\(place.source)", "store": "\(store.label)", "generations": "\(doomed.count)"])
                }
            } catch {
                // Kept for the next new generation to remove; the archive itself is whole.
                logger.warning("continuous archive: older generations not removed", metadata: ["source": "\(place.source)", "store": "\(store.label)", "error": "\(error.message)"])
            }
        }
    }

    /// The generations (by id) among `keys` (relative to the source's prefix) that retention removes: those begun
    /// before `cutoff`, except the newest of them.
    static func expired(_ keys: [String], before cutoff: Date) -> Set<String> {
        let ids = Set(keys.compactMap { k -> String? in k.firstIndex(of: "/").map { String(k[..<$0]) } })
        let dated = ids.compactMap { id -> (String, Date)? in started(id).map { (id, $0) } }.sorted { $0.1 < $1.1 }
        let old = dated.filter { $0.1 < cutoff }
        return Set(old.dropLast().map(\.0))
    }

    /// When generation `id` began (its id starts with the time, `20261207T121049Z-…`).
    static func started(_ id: String) -> Date? {
        id.split(separator: "-").first.flatMap { idTime().date(from: String($0)) }
    }
}
