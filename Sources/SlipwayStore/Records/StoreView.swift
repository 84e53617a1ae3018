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
}
