import Foundation
import Yams

/// `router:`: where the environment's traffic comes in (an address, and on an address environments share,
/// its hosts and path), and the router's timeouts and headers.
enum RouterSection {
    static func router(_ node: Node?, reader: ConfigReader) -> RouterSettings {
        var router = RouterSettings(listen: ListenAddress(host: "127.0.0.1", port: 8080))
        if let rnode = node, let r = reader.mapping(rnode, "router", allowed: ["listen", "drain_timeout", "connect_timeout", "response_timeout", "idle_timeout",
                                                                                "forwarded_headers", "request_id_header", "hosts", "path", "strip_prefix"]) {
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
        }
        return router
    }
}
