import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// An in-place restore holds the environment's unrouted types: none runs while its data is replaced (a worker
/// would write to the database being restored). They start again once nothing holds the environment: at the end
/// of the operation that restored (its lock gone), on the release that then serves; a rollback's own switch moves
/// them to the release it restores. A daemon that dies meanwhile forgets the hold.
extension ProcessTypes {
    /// Stops every process of `environment`'s unrouted types and keeps them down until `release`.
    func hold(_ environment: String) async {
        held.insert(environment)
        let types = config.environments[environment]?.processTypes ?? []
        let stopped = await exclusively(environment) { () async -> Int in
            let rows = (try? store.workers.all(environment: environment)) ?? []
            for type in types { await stop(rows.filter { $0.type == type.name }, type: type, report: nil) }
            await stop(rows.filter { row in !types.contains { $0.name == row.type } }, type: nil, report: nil)
            return rows.count
        }
        if stopped > 0 { logger.info("process types held for a restore", metadata: ["worker.env": "\(environment)", "worker.count": "\(stopped)"]) }
    }

    /// Ends the hold; the next supervision pass without a lock on the environment starts them.
    func release(_ environment: String) { held.remove(environment) }
}
