import Foundation

/// An environment in maintenance: the router answers 503 with a page (`on`), or holds new requests
/// until `resume`/`off` or the hold limit (`paused`, for a short cut-over).
public struct MaintenanceMode: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case on, paused }

    public var mode: Mode
    /// The page served with the 503: the custom HTML file's contents, or the message in a small page.
    public var html: String
    /// Seconds for the `Retry-After` header.
    public var retryAfterS: Int
    /// How long a request is held while paused before it gets the 503 page.
    public var holdLimitMs: Int64
    /// Seconds since 1970 (a plain number: route tables are read by decoders with different date rules).
    public var since: Int64
    public var actor: String

    public init(mode: Mode, html: String, retryAfterS: Int, holdLimitMs: Int64, since: Int64, actor: String) {
        self.mode = mode
        self.html = html
        self.retryAfterS = retryAfterS
        self.holdLimitMs = holdLimitMs
        self.since = since
        self.actor = actor
    }

    enum CodingKeys: String, CodingKey {
        case mode, html, since, actor
        case retryAfterS = "retry_after_s", holdLimitMs = "hold_limit_ms"
    }

    /// The default page: the message, HTML-escaped.
    public static func page(message: String) -> String {
        var escaped = ""
        for c in message {
            switch c {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(c)
            }
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Down for maintenance</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36em;margin:15vh auto;padding:0 1em;color:#222}</style></head>
            <body><h1>Down for maintenance</h1><p>\(escaped)</p></body></html>

            """
    }
}

/// `slipway maintenance on|off|pause|resume`.
public struct MaintenanceBody: Codable, Sendable {
    public enum Action: String, Codable, Sendable { case on, off, pause, resume }
    public var environment: String?
    public var action: Action
    public var message: String?
    /// A custom HTML file (relative to the config's directory).
    public var page: String?
    public var retryAfter: String?
    /// While paused: the longest a request is held.
    public var limit: String?

    public init(environment: String?, action: Action, message: String? = nil, page: String? = nil, retryAfter: String? = nil,
                limit: String? = nil) {
        self.environment = environment
        self.action = action
        self.message = message
        self.page = page
        self.retryAfter = retryAfter
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case environment, action, message, page, limit
        case retryAfter = "retry_after"
    }
}

public typealias MaintenanceRequest = Attributed<MaintenanceBody>

extension Attributed where Body == MaintenanceBody {
    public init(environment: String?, action: MaintenanceBody.Action, message: String? = nil, page: String? = nil, retryAfter: String? = nil,
                limit: String? = nil, actor: String) {
        self.init(MaintenanceBody(environment: environment, action: action, message: message, page: page, retryAfter: retryAfter, limit: limit), actor: actor)
    }
}

extension Attributed where Body == MaintenanceBody {
    public typealias Action = MaintenanceBody.Action
}
