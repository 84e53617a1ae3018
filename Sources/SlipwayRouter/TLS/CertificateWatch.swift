import ServiceLifecycle

/// Looks at the HTTPS addresses' certificate files once a `period` and loads the ones that changed: a
/// certificate renewed on disk (by a deploy, certbot, a secrets agent) serves from the next handshake on.
struct CertificateWatch: Service {
    let proxy: ProxyServer
    var period: Duration = .seconds(1)

    func run() async {
        let proxy = self.proxy, period = self.period
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                if Task.isCancelled { return }
                await proxy.reloadCertificates()
            }
        }
    }
}
