import Crypto
import Foundation
import GRDB
import SlipwayCore

extension SlipwayStore {
    /// Appends an audit entry; each entry's hash covers the previous one's, so an edit breaks the chain.
    /// `actor` is the verified identity; its `onBehalfOf` (what a client claimed) is kept beside it.
    /// Appends to the hash chain. Role, source and request id come from the request being served
    /// (`RequestOrigin.current`); the daemon's own actions have role `daemon` and no source.
    /// A failed write is counted (`slipway_store_write_failures_total`) and thrown: an operation whose entry
    /// could not be written fails rather than going unaudited.
    public func audit(_ actor: Principal, action: String, target: String, outcome: String, detail: String = "",
                      before: String? = nil, after: String? = nil, now: Date = Date()) throws(SlipwayError) {
        let r = Self.auditRecord(actor, action: action, target: target, outcome: outcome, detail: detail, before: before, after: after, now: now)
        do { try write { db in try Self.appendAudit(db, r) } } catch {
            countWriteFailure()
            throw SlipwayError(.internal, "cannot write the audit entry for \(action) on \(target); the operation was not carried out past this point",
                               cause: error)
        }
    }

    static func auditRecord(_ actor: Principal, action: String, target: String, outcome: String, detail: String,
                            before: String? = nil, after: String? = nil, now: Date) -> AuditRecord {
        let origin = RequestOrigin.current
        var r = AuditRecord(id: nil, time: now, actor: actor.name, action: action, target: target, outcome: outcome, detail: detail, prevHash: "", hash: "",
                            onBehalfOf: actor.onBehalfOf)
        r.role = origin?.roles.map { $0.map(\.rawValue).joined(separator: ",") } ?? (actor.via == .daemon ? "daemon" : actor.roles.map(\.rawValue).joined(separator: ","))
        r.source = origin?.source
        r.requestId = origin?.requestId
        r.before = before
        r.after = after
        return r
    }

    static func appendAudit(_ db: Database, _ record: AuditRecord) throws {
        var r = record
        r.prevHash = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY id DESC LIMIT 1") ?? ""
        r.hash = chainHash(r)
        try r.insert(db)
    }

    static func chainHash(_ r: AuditRecord) -> String {
        let ms = Int64((r.time.timeIntervalSince1970 * 1000).rounded())
        // Entries written before `on_behalf_of`, and before role/source/request id/before/after, hash as they always did.
        var fields = [r.prevHash, String(ms), r.actor, r.action, r.target, r.outcome, r.detail]
        let origin = [r.role, r.source, r.requestId, r.before, r.after]
        if origin.allSatisfy({ $0 == nil }) {
            if let o = r.onBehalfOf { fields.append(o) }
        } else {
            fields += [r.onBehalfOf ?? ""] + origin.map { $0 ?? "" }
        }
        return Hex.string(SHA256.hash(data: Data(fields.joined(separator: "\u{1F}").utf8)))
    }
}
