import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// For writes whose caller cannot fail any more (the operation already happened, or the caller is a loop):
/// the failure is counted by the store (`slipway_store_write_failures_total`) and logged here, never dropped.
extension SlipwayStore {
    func record(_ event: Event, orLog logger: Logger) {
        do { try record(event) } catch {
            logger.error("cannot write an event to the event log", metadata: ["event.type": "\(event.type)", "error": "\(error)"])
        }
    }

    func audit(_ actor: Principal, action: String, target: String, outcome: String, detail: String = "", before: String? = nil, after: String? = nil,
               orLog logger: Logger) {
        do { try audit(actor, action: action, target: target, outcome: outcome, detail: detail, before: before, after: after) } catch {
            logger.error("cannot write an audit entry", metadata: ["audit.action": "\(action)", "audit.target": "\(target)", "error": "\(error)"])
        }
    }
}

extension Logger {
    /// Runs a store write whose caller goes on either way (a loop, a cleanup, a write after the fact): a
    /// failure is counted (`slipway_store_write_failures_total`) and logged with `what`, never discarded.
    @discardableResult
    func write<T>(_ what: String, to store: SlipwayStore, _ body: () throws(SlipwayError) -> T) -> T? {
        do { return try body() } catch {
            store.countWriteFailure()
            self.error("cannot \(what)", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
