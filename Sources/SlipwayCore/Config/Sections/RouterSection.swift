import Foundation
import Yams

/// `router:`: where the environment's traffic comes in (an address, and on an address environments share,
/// its hosts and path), and the router's timeouts and headers.
enum RouterSection {
    static func router(_ node: Node?, directory: String, root: String = "", environment: String = "", reader: ConfigReader) -> RouterSettings {
        var router = RouterSettings(listen: ListenAddress(host: "127.0.0.1", port: 8080))
        if let rnode = node, let r = reader.mapping(rnode, "router", allowed: ["listen", "drain_timeout", "connect_timeout", "response_timeout", "idle_timeout",
                                                                                "forwarded_headers", "request_id_header", "hosts", "path", "strip_prefix",
                                                                                "listen_tls", "tls", "acme", "redirect_https", "hsts", "http2", "edge"]) {
            var route = RouteMatch()
            for e in r {
                let path = "router.\(e.key)"
                if e.key == "listen" {
                    if let s = reader.string(e.value, path) {
                        if let addr = ListenAddress(parsing: s), addr.port > 0 { router.listen = addr }
                        else { reader.problem(e.value, path, "expected HOST:PORT with a port from 1 to 65535, got '\(s)'") }
                    }
                } else if e.key == "drain_timeout" {
                    router.drainTimeout = reader.duration(e.value, path, allowZero: true) ?? router.drainTimeout
                } else if e.key == "connect_timeout" {
                    router.connectTimeout = reader.duration(e.value, path) ?? router.connectTimeout
                } else if e.key == "response_timeout" {
                    router.responseTimeout = reader.duration(e.value, path) ?? router.responseTimeout
                } else if e.key == "forwarded_headers" {
                    router.forwardedHeaders = reader.bool(e.value, path) ?? router.forwardedHeaders
                } else if e.key == "hosts" {
                    if let hosts = reader.stringList(e.value, path) {
                        if hosts.isEmpty { reader.problem(e.value, path, "expected a list of host names, like [shop.example.com, \"*.preview.example.com\"]") }
                        for h in hosts { if let why = RouteMatch.problem(host: h) { reader.problem(e.value, path, why) } }
                        route.hosts = hosts.map(RouteMatch.normalized)
                    }
                } else if e.key == "path" {
                    if let s = reader.string(e.value, path) {
                        if let why = RouteMatch.problem(path: s) { reader.problem(e.value, path, why) } else { route.path = s == "/" ? nil : s }
                    }
                } else if e.key == "edge" {
                    if let s = reader.string(e.value, path) {
                        if s.isEmpty { reader.problem(e.value, path, "expected the shared edge's socket, like /run/slipway/edge.sock") }
                        else { router.edge = s.hasPrefix("/") ? s : directory + "/" + s }
                    }
                } else if e.key == "strip_prefix" {
                    route.stripPrefix = reader.bool(e.value, path) ?? false
                } else if Self.tlsKeys.contains(e.key) {
                    continue  // read together below
                } else if e.key == "request_id_header" {
                    router.requestIdHeader = reader.bool(e.value, path) ?? router.requestIdHeader
                } else {
                    router.idleTimeout = reader.duration(e.value, path) ?? router.idleTimeout
                }
            }
            if route.stripPrefix && route.path == nil, let e = r.first(where: { $0.key == "strip_prefix" }) {
                reader.problem(e.value, "router.strip_prefix", "strip_prefix takes off router.path; set a path like /api, or drop strip_prefix")
            }
            if !route.isCatchAll { router.route = route }
            router.tls = tls(r, listen: router.listen, hosts: route.hosts, directory: directory, storage: root + "/acme", environment: environment, reader: reader)
        }
        return router
    }

    static let tlsKeys: Set<String> = ["listen_tls", "tls", "acme", "redirect_https", "hsts", "http2"]

    /// `listen_tls`, `tls` (`off`, or `{ cert: FILE, key: FILE }`), `redirect_https` (default true) and `hsts`: each
    /// needs the others it depends on, and every mistake names its key.
    static func tls(_ r: [(key: String, keyNode: Node, value: Node)], listen: ListenAddress, hosts: [String], directory: String, storage: String,
                    environment: String, reader: ConfigReader) -> RouterTLS? {
        func entry(_ key: String) -> Node? { r.first { $0.key == key }?.value }
        var address: ListenAddress?
        if let n = entry("listen_tls"), let s = reader.string(n, "router.listen_tls") {
            if let a = ListenAddress(parsing: s), a.port > 0 {
                if a == listen { reader.problem(n, "router.listen_tls", "\(s) is router.listen too; HTTPS needs an address of its own, like 0.0.0.0:443") }
                else { address = a }
            } else {
                reader.problem(n, "router.listen_tls", "expected HOST:PORT with a port from 1 to 65535, got '\(s)'")
            }
        }
        var files: TLSFiles?
        var acme: ACMEOptions?
        var tlsOff = true
        if let n = entry("tls") {
            if case .scalar(let scalar) = n {
                if scalar.string == "off" || n.bool == false {
                    tlsOff = true
                } else if scalar.string == "acme" {
                    tlsOff = false
                    acme = acmeOptions(entry("acme"), hosts: hosts, tlsNode: n, directory: directory, storage: storage, reader: reader)
                    if let acme { files = TLSFiles(cert: ACMEOptions.files(storage: acme.storage, environment: environment).cert,
                                                   key: ACMEOptions.files(storage: acme.storage, environment: environment).key) }
                } else {
                    reader.problem(n, "router.tls", "expected off, acme or { cert: FILE, key: FILE }, got '\(scalar.string)'")
                }
            } else {
                tlsOff = false
                files = reader.tlsFiles(n, "router.tls", directory: directory)
            }
        }
        if let n = entry("acme"), acme == nil, !(entry("tls").map { if case .scalar(let s) = $0 { s.string == "acme" } else { false } } ?? false) {
            reader.problem(n, "router.acme", "router.acme sets up ACME certificates: it needs router.tls: acme")
        }
        var redirect = true
        if let n = entry("redirect_https") {
            redirect = reader.bool(n, "router.redirect_https") ?? true
            if tlsOff { reader.problem(n, "router.redirect_https", "redirects to HTTPS need router.tls and router.listen_tls") }
        }
        var hsts: Int64?
        if let n = entry("hsts") {
            if let d = reader.duration(n, "router.hsts") { hsts = d.components.seconds }
            if tlsOff { reader.problem(n, "router.hsts", "HSTS is sent over HTTPS: it needs router.tls and router.listen_tls") }
        }
        // HTTP/2 is offered wherever HTTPS is (ALPN `h2`, then `http/1.1`); `http2: false` keeps an environment to HTTP/1.1.
        var http2 = true
        if let n = entry("http2") {
            http2 = reader.bool(n, "router.http2") ?? true
            if tlsOff { reader.problem(n, "router.http2", "HTTP/2 is offered over HTTPS (ALPN): it needs router.tls and router.listen_tls") }
        }
        if let n = entry("tls"), !tlsOff, entry("listen_tls") == nil {
            reader.problem(n, "router.tls", "tls needs router.listen_tls: the HTTPS address, like 0.0.0.0:443")
        }
        if let n = entry("listen_tls"), tlsOff {
            reader.problem(n, "router.listen_tls", "an HTTPS address needs a certificate: add router.tls: acme, or router.tls: { cert: FILE, key: FILE }")
        }
        guard let address, let files else { return nil }
        return RouterTLS(listen: address, certFile: files.cert, keyFile: files.key, redirect: redirect, hstsSeconds: hsts, http2: http2, acme: acme)
    }

    /// `router.acme: { email, directory | staging, ca, challenge }` for `tls: acme`: the names come from
    /// `router.hosts` (exact names only: a wildcard needs DNS-01, which Slipway does not do).
    static func acmeOptions(_ node: Node?, hosts: [String], tlsNode: Node, directory: String, storage: String, reader: ConfigReader) -> ACMEOptions? {
        let before = reader.problems.count
        let entries = node.flatMap { reader.mapping($0, "router.acme", allowed: ["email", "directory", "staging", "ca", "challenge", "on_demand"]) } ?? []
        let onDemandNode = entries.first { $0.key == "on_demand" }?.value
        // On demand, the route may take any host (customers' own domains) and wildcards: each name gets its own certificate.
        if hosts.isEmpty && onDemandNode == nil {
            reader.problem(tlsNode, "router.tls", "ACME certificates are for names: list them in router.hosts, like [shop.example.com], or add router.acme.on_demand")
        }
        for h in hosts where h.hasPrefix("*.") && onDemandNode == nil {
            reader.problem(tlsNode, "router.tls", "\(h): a wildcard certificate needs the DNS-01 challenge, which Slipway does not do; use tls: { cert: FILE, key: FILE } for it, or router.acme.on_demand (a certificate per name)")
        }
        var options = ACMEOptions(storage: storage)
        for e in entries {
            let path = "router.acme.\(e.key)"
            switch e.key {
            case "email":
                if let s = reader.string(e.value, path) {
                    if s.contains("@"), !s.contains(" "), !s.hasPrefix("mailto:") { options.email = s }
                    else { reader.problem(e.value, path, "expected an email address, like ops@example.com, got '\(s)'") }
                }
            case "directory":
                if let s = reader.string(e.value, path) {
                    if s.lowercased().hasPrefix("https://") || s.lowercased().hasPrefix("http://") { options.directory = s }
                    else { reader.problem(e.value, path, "expected the CA's directory URL, like \(ACMEOptions.letsEncrypt), got '\(s)'") }
                }
            case "staging":
                if reader.bool(e.value, path) == true {
                    if entries.contains(where: { $0.key == "directory" }) {
                        reader.problem(e.value, path, "staging picks Let's Encrypt's staging directory; drop it or router.acme.directory")
                    }
                    options.directory = ACMEOptions.letsEncryptStaging
                }
            case "ca":
                if let s = reader.string(e.value, path) {
                    let absolute = s.hasPrefix("/") ? s : directory + "/" + s
                    let text = FileManager.default.contents(atPath: absolute).map { String(decoding: $0.prefix(1 << 20), as: UTF8.self) }
                    if let text, text.contains("-----BEGIN CERTIFICATE-----") { options.caFile = absolute }
                    // A fleet's controller reads it (and says so before a deploy); a host parsing the snapshot need not have it.
                    else if text == nil, reader.sharedState, reader.fleetEnvironment { options.caFile = absolute }
                    else if text == nil { reader.problem(e.value, path, "cannot read \(absolute); expected the PEM of the CA's API certificate") }
                    else { reader.problem(e.value, path, "\(absolute) holds no PEM certificate (-----BEGIN CERTIFICATE-----)") }
                }
            case "on_demand":
                options.onDemand = onDemand(e.value, reader: reader)
            default:
                if let s = reader.string(e.value, path) {
                    if ACMEOptions.challenges.contains(s) { options.challenge = s }
                    else { reader.problem(e.value, path, "expected http-01 (port 80) or tls-alpn-01 (port 443), got '\(s)'") }
                }
            }
        }
        return reader.problems.count == before ? options : nil
    }

    /// `router.acme.on_demand: { ask: URL, max_per_hour: N }`.
    static func onDemand(_ node: Node, reader: ConfigReader) -> ACMEOptions.OnDemand? {
        guard let entries = reader.mapping(node, "router.acme.on_demand", allowed: ["ask", "max_per_hour"]) else { return nil }
        var ask: String?
        var perHour = 20
        for e in entries {
            let path = "router.acme.on_demand.\(e.key)"
            if e.key == "ask" {
                if let s = reader.string(e.value, path) {
                    if let u = URL(string: s), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https", u.host != nil { ask = s }
                    else { reader.problem(e.value, path, "expected the URL the router asks whether a name may get a certificate, like http://127.0.0.1:3000/tls-allowed, got '\(s)'") }
                }
            } else if let n = reader.int(e.value, path, min: 1, max: 10_000) {
                perHour = n
            }
        }
        if !entries.contains(where: { $0.key == "ask" }) {
            reader.problem(node, "router.acme.on_demand.ask", "missing required key (the URL that approves a name with 200)")
        }
        return ask.map { ACMEOptions.OnDemand(ask: $0, maxPerHour: perHour) }
    }
}
