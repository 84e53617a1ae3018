import Foundation
import Yams

/// `router:`: where the environment's traffic comes in (an address, and on an address environments share,
/// its hosts and path), and the router's timeouts and headers.
enum RouterSection {
    static func router(_ node: Node?, directory: String, reader: ConfigReader) -> RouterSettings {
        var router = RouterSettings(listen: ListenAddress(host: "127.0.0.1", port: 8080))
        if let rnode = node, let r = reader.mapping(rnode, "router", allowed: ["listen", "drain_timeout", "connect_timeout", "response_timeout", "idle_timeout",
                                                                                "forwarded_headers", "request_id_header", "hosts", "path", "strip_prefix",
                                                                                "listen_tls", "tls", "acme", "redirect_https", "hsts", "http2"]) {
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
            router.tls = tls(r, listen: router.listen, directory: directory, reader: reader)
        }
        return router
    }

    static let tlsKeys: Set<String> = ["listen_tls", "tls", "acme", "redirect_https", "hsts", "http2"]

    /// `listen_tls`, `tls` (`off`, or `{ cert: FILE, key: FILE }`), `redirect_https` (default true) and `hsts`: each
    /// needs the others it depends on, and every mistake names its key.
    static func tls(_ r: [(key: String, keyNode: Node, value: Node)], listen: ListenAddress, directory: String, reader: ConfigReader) -> RouterTLS? {
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
        var tlsOff = true
        if let n = entry("tls") {
            if case .scalar(let scalar) = n {
                if scalar.string == "off" || n.bool == false {
                    tlsOff = true
                } else if scalar.string == "acme" {
                    tlsOff = false
                    reader.problem(n, "router.tls", "ACME certificates are not in this version yet; use tls: { cert: FILE, key: FILE } (PEM files, reloaded when they change)")
                } else {
                    reader.problem(n, "router.tls", "expected off, acme or { cert: FILE, key: FILE }, got '\(scalar.string)'")
                }
            } else {
                tlsOff = false
                files = reader.tlsFiles(n, "router.tls", directory: directory)
            }
        }
        if let n = entry("acme") {
            reader.problem(n, "router.acme", "ACME certificates are not in this version yet; use tls: { cert: FILE, key: FILE }")
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
        var http2 = false
        if let n = entry("http2") {
            http2 = reader.bool(n, "router.http2") ?? false
            if tlsOff { reader.problem(n, "router.http2", "HTTP/2 is offered over HTTPS (ALPN): it needs router.tls and router.listen_tls") }
        }
        if let n = entry("tls"), !tlsOff, entry("listen_tls") == nil {
            reader.problem(n, "router.tls", "tls needs router.listen_tls: the HTTPS address, like 0.0.0.0:443")
        }
        if let n = entry("listen_tls"), tlsOff {
            reader.problem(n, "router.listen_tls", "an HTTPS address needs a certificate: add router.tls: { cert: FILE, key: FILE }")
        }
        guard let address, let files else { return nil }
        return RouterTLS(listen: address, certFile: files.cert, keyFile: files.key, redirect: redirect, hstsSeconds: hsts, http2: http2)
    }
}
