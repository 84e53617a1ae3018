import Foundation
import GRDB
import SlipwayCore

/// A feature's records in the one store (`EnvironmentRecords`, `SignalRecords`, `DataRecords`,
/// `AccessRecords`, `WebhookRecords`): they write and read through the store's transactions, so a write
/// that spans features (a change and its audit entry, its event) is still one transaction.
protocol StoreView: Sendable {
    var store: SlipwayStore { get }
}

extension StoreView {
    func write<T>(_ body: (Database) throws -> T) throws(SlipwayError) -> T { try store.write(body) }
    func write<T>(recording body: (Database, inout [Event]) throws -> T) throws(SlipwayError) -> T { try store.write(recording: body) }
    func read<T>(_ body: (Database) throws -> T) throws(SlipwayError) -> T { try store.read(body) }
    func json<T: Encodable>(_ value: T, _ encoder: JSONEncoder = SlipwayJSON.encoder(), what: String) throws(SlipwayError) -> String {
        try store.json(value, encoder, what: what)
    }
    func countWriteFailure() { store.countWriteFailure() }

    /// `body` and the audit entry `note` describes in one transaction: the change is audited or not made. `target`
    /// is the entry's when the note names none; a failed write is counted and reported as "cannot record ACTION
    /// `subject` with its audit entry; nothing changed" (a `SlipwayError` of `body`'s own passes as it is).
    func write<T>(audited note: AuditNote, target: String, subject: String, _ body: (Database) throws -> T) throws(SlipwayError) -> T {
        let r = SlipwayStore.auditRecord(note.actor, action: note.action, target: note.target ?? target, outcome: note.outcome, detail: note.detail,
                                         before: note.before, after: note.after, now: Date())
        do {
            return try write { db in
                let value = try body(db)
                try SlipwayStore.appendAudit(db, r)
                return value
            }
        } catch where error.code != .internal {
            throw error
        } catch {
            countWriteFailure()
            throw SlipwayError(.internal, "cannot record \(note.action) \(subject) with its audit entry; nothing changed", cause: error)
        }
    }
}
