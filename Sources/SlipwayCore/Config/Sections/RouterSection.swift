import Foundation
import Yams

/// `router:`: where the environment's traffic comes in, and the router's timeouts and headers.
enum RouterSection {
    static func router(_ node: Node?, reader: ConfigReader) -> RouterSettings {
        var router = RouterSettings(listen: ListenAddress(host: "127.0.0.1", port: 8080))
        if let rnode = node, let r = reader.mapping(rnode, "router", allowed: ["listen", "drain_timeout", "connect_timeout", "response_timeout", "idle_timeout",
                                                                                "forwarded_headers", "request_id_header"]) {
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
                } else if e.key == "request_id_header" {
                    router.requestIdHeader = reader.bool(e.value, path) ?? router.requestIdHeader
                } else {
                    router.idleTimeout = reader.duration(e.value, path) ?? router.idleTimeout
                }
            }
        }
        return router
    }
}
