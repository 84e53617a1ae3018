import Foundation
import GRDB
import SlipwayCore
import Crypto

/// The audit log read back: entries, and the hash chain checked.
extension AccessRecords {
    /// Newest first; with `environment`, the entries whose target is it or under it (`production/v2`).
    public func auditEntries(limit: Int = 100, environment: String? = nil, since: Date? = nil) throws(SlipwayError) -> [AuditEntry] {
        try read { db in
            var q = AuditRecord.order(AuditRecord.Columns.id.desc)
            if let environment { q = q.filter(AuditRecord.Columns.target == environment || AuditRecord.Columns.target.like("\(environment)/%")) }
            if let since { q = q.filter(AuditRecord.Columns.time >= since) }
            return try q.limit(limit).fetchAll(db).map { (r: AuditRecord) -> AuditEntry in
                var e = AuditEntry(id: r.id ?? 0, time: r.time, actor: r.actor, action: r.action, target: r.target,
                                   outcome: r.outcome, detail: r.detail, hash: r.hash, onBehalfOf: r.onBehalfOf)
                e.role = r.role
                e.source = r.source
                e.requestId = r.requestId
                e.before = r.before
                e.after = r.after
                return e
            }
        }
    }

    /// Recomputes the chain from the first entry; names the first entry that does not match.
    public func verifyAuditChain() throws(SlipwayError) -> AuditVerification {
        try read { db in
            var prev = ""
            var count = 0
            for r in try AuditRecord.order(AuditRecord.Columns.id).fetchAll(db) {
                count += 1
                if r.prevHash != prev || SlipwayStore.chainHash(r) != r.hash { return AuditVerification(ok: false, entries: count, firstBad: r.id) }
                prev = r.hash
            }
            return AuditVerification(ok: true, entries: count, firstBad: nil)
        }
    }
}
