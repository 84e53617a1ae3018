import Crypto
import Foundation
import GRDB
import SlipwayCore

extension SlipwayStore {
    /// Appends an audit entry; each entry's hash covers the previous one's, so an edit breaks the chain.
    /// `actor` is the verified identity; its `onBehalfOf` (what a client claimed) is kept beside it.
    public func audit(_ actor: Principal, action: String, target: String, outcome: String, detail: String = "", now: Date = Date()) {
        try? write { db in try Self.appendAudit(db, actor: actor, action: action, target: target, outcome: outcome, detail: detail, now: now) }
    }

    static func appendAudit(_ db: Database, actor: Principal, action: String, target: String, outcome: String, detail: String, now: Date) throws {
        let prev = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY id DESC LIMIT 1") ?? ""
        var r = AuditRecord(id: nil, time: now, actor: actor.name, action: action, target: target, outcome: outcome, detail: detail, prevHash: prev, hash: "",
                            onBehalfOf: actor.onBehalfOf)
        r.hash = chainHash(r)
        try r.insert(db)
    }

    static func chainHash(_ r: AuditRecord) -> String {
        let ms = Int64((r.time.timeIntervalSince1970 * 1000).rounded())
        // Entries written before `on_behalf_of` existed hash as they always did.
        let text = ([r.prevHash, String(ms), r.actor, r.action, r.target, r.outcome, r.detail] + (r.onBehalfOf.map { [$0] } ?? []))
            .joined(separator: "\u{1F}")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Newest first; with `environment`, the entries whose target is it or under it (`production/v2`).
    public func auditEntries(limit: Int = 100, environment: String? = nil, since: Date? = nil) throws(SlipwayError) -> [AuditEntry] {
        try read { db in
            var q = AuditRecord.order(Column("id").desc)
            if let environment { q = q.filter(Column("target") == environment || Column("target").like("\(environment)/%")) }
            if let since { q = q.filter(Column("time") >= since) }
            return try q.limit(limit).fetchAll(db).map {
                AuditEntry(id: $0.id ?? 0, time: $0.time, actor: $0.actor, action: $0.action, target: $0.target,
                           outcome: $0.outcome, detail: $0.detail, hash: $0.hash, onBehalfOf: $0.onBehalfOf)
            }
        }
    }

    /// Recomputes the chain from the first entry; names the first entry that does not match.
    public func verifyAuditChain() throws(SlipwayError) -> AuditVerification {
        try read { db in
            var prev = ""
            var count = 0
            for r in try AuditRecord.order(Column("id")).fetchAll(db) {
                count += 1
                if r.prevHash != prev || Self.chainHash(r) != r.hash { return AuditVerification(ok: false, entries: count, firstBad: r.id) }
                prev = r.hash
            }
            return AuditVerification(ok: true, entries: count, firstBad: nil)
        }
    }
}
