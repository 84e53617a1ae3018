import Foundation
import ServiceLifecycle

/// The router's ACME loop: once a `period`, the current table's ACME certificates get a pass of `ACMEManager`.
struct ACMEService: Service {
    let proxy: ProxyServer
    let manager: ACMEManager
    var period: Duration = .seconds(1)

    func run() async {
        let proxy = self.proxy, manager = self.manager, period = self.period
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wanted = ACMEManager.wanted(await proxy.table)
                if !wanted.isEmpty { await manager.pass(wanted, now: Date()) }
                try? await Task.sleep(for: period)
            }
        }
    }
}
