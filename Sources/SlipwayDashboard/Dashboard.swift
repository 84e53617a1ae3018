import Foundation
import Mustache
import SlipwayCore
import SlipwayEngine
import SlipwayFleet

/// The web dashboard: pages rendered on the server from the engine's records with Mustache templates compiled
/// into the binary. Every button posts to a route that checks the same roles as the API and calls the same
/// engine operation, audited as the signed-in user.
public struct Dashboard: Sendable {
    let engine: Engine
    var library: MustacheLibrary { Self.library }
    /// The templates, compiled once (a template that does not parse fails the dashboard's tests, not a user).
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in DashboardTemplates.all {
            do { try library.register(text, named: name) } catch { preconditionFailure("dashboard template \(name): \(error)") }
        }
        return library
    }()
    public let signer: SessionSigner
    public let links = DashboardLinks()
    /// How long a session lasts.
    public static let sessionLength: TimeInterval = 12 * 3600

    /// The fleet environments' shared state (nil: none, or no `state.postgres` this process can reach).
    public let fleet: FleetBoard?

    public init(engine: Engine, root: String, fleet: FleetBoard? = nil) throws {
        self.engine = engine
        self.fleet = fleet
        self.signer = try SessionSigner.loadOrCreate(root: root)
    }

    public static var css: String { DashboardAssets.css }
    public static var js: String { DashboardAssets.js }

    /// Who is looking, and the CSRF token their forms carry.
    public struct Viewer: Sendable {
        public var user: String
        public var roles: [Role]
        public var csrf: String

        public init(user: String, roles: [Role], csrf: String) {
            self.user = user
            self.roles = roles
            self.csrf = csrf
        }

        public func may(_ role: Role) -> Bool { Principal.token(user, roles: roles).may(role) }
    }

    /// A page: its body template rendered into the layout.
    func page(_ template: String, title: String, _ context: [String: Any], viewer: Viewer?) -> String {
        var values = context
        if let viewer { values["csrf"] = viewer.csrf }
        let body = library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body, "renderedAt": Self.time(Date())]
        if let viewer {
            layout["user"] = viewer.user
            layout["roles"] = viewer.roles.map(\.rawValue).joined(separator: ", ")
            layout["csrf"] = viewer.csrf
        }
        if let last = try? engine.events.lastEventId() { layout["after"] = String(last) }
        return library.render(layout, withTemplate: "layout") ?? ""
    }

    /// An audit entry as the session's user (a refusal: the request fails whether or not it is written).
    public func audit(_ session: DashboardSession, action: String, target: String, detail: String) throws(SlipwayError) {
        try engine.access.audit(session.principal, action: action, target: target, outcome: "refused", detail: detail)
    }

    /// What a browser gets when a page or a button fails: the reason in the layout, a link back, no live refresh.
    /// `status` is the HTTP status; `path` the request's (the way back is its environment's page, or the overview).
    public static func errorPage(status: Int, message: String, path: String) -> String {
        let heading = switch status {
        case 401: "Sign in first"
        case 403: "Not allowed"
        case 404: "Not found"
        case 409: "Refused by policy"
        case 400..<500: "That did not work"
        default: "The daemon failed"
        }
        let parts = path.split(separator: "/")
        let back = parts.count >= 3 && parts[0] == "ui" && parts[1] == "env" ? "/ui/env/\(parts[2])" : "/ui"
        let body = library.render(["heading": heading, "message": message, "back": back, "signIn": status == 401], withTemplate: "error") ?? ""
        return library.render(["title": heading, "body": body, "still": true, "renderedAt": time(Date())], withTemplate: "layout") ?? ""
    }

    public func login(error: String?) -> String {
        page("login", title: "Sign in", error.map { ["error": $0] } ?? [:], viewer: nil)
    }

    // MARK: Formatting

    /// `<time>` in UTC; the script shows it in the viewer's zone with UTC on hover.
    static func time(_ d: Date) -> String {
        let iso = d.formatted(.iso8601)
        return "<time datetime=\"\(iso)\" title=\"\(iso)\">\(iso.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC"))</time>"
    }

    static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
        if seconds < 90 { return String(format: "%.1f s", seconds) }
        if seconds < 5400 { return String(format: "%.0f min", seconds / 60) }
        if seconds < 172_800 { return String(format: "%.1f h", seconds / 3600) }
        return String(format: "%.1f d", seconds / 86400)
    }

    static func stateClass(_ s: DeploymentState) -> String {
        switch s {
        case .succeeded: "ok"
        case .failed, .rolledBack: "bad"
        default: "info"
        }
    }
}
