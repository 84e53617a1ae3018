import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// An in-place restore of an environment's files holds its accessories: stopped (still wanted) so none writes its
/// data directory while it is replaced or keeps the old files open, and started again at once after, reading the
/// restored data. A daemon that dies meanwhile forgets the hold; its next start starts them again.
extension Accessories {
    /// Stops every running accessory of `environment` and keeps the supervision from starting them; their names.
    func hold(_ environment: String) async -> [String] {
        held.insert(environment)
        let env = config.environments[environment]
        var stopped: [String] = []
        for r in ((try? store.accessories.all()) ?? []) where r.environment == environment {
            guard Self.running(r) else { continue }
            _ = await terminate(pid: r.pid, startTime: UInt64(r.procStartTime), env?.accessories.first { $0.name == r.name }, environment: environment)
            var down = r
            down.pid = 0
            down.procStartTime = 0
            logger.write("save accessory \(environment)/\(r.name)", to: store) { () throws(SlipwayError) in try store.accessories.save(down) }
            stopped.append(r.name)
        }
        if !stopped.isEmpty { logger.info("accessories held for a restore", metadata: ["accessory.env": "\(environment)", "accessory.names": "\(stopped)"]) }
        return stopped
    }

    /// Ends the hold: every wanted accessory of `environment` starts again now.
    func release(_ environment: String) async {
        held.remove(environment)
        guard let env = config.environments[environment] else { return }
        for a in env.accessories {
            forgetBackoff("\(environment)/\(a.name)")
            await keep(a, env: env)
        }
    }
}
