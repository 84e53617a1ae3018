import Foundation
import Hummingbird
import NIOCore
import SlipwayCore
import SlipwayDashboard

/// Turns every error into `{"error": {"code", "message", "cause"}}` with a matching status, so the CLI
/// can map it back to an exit code. Nothing else about the failure leaks.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIResponse.from(error, path: request.uri.path)
        }
    }
}

/// A browser's dashboard request (a page or a button's form, `Accept: text/html`): whatever fails answers as an HTML
/// page with the reason and a way back, instead of the API's JSON. Added before every other middleware, so the
/// refusals of the authorization middleware are pages too.
struct BrowserErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.wantsPage(request) else { return try await next(request, context) }
        return try await APIResponse.$pageFor.withValue(request.uri.path) { try await next(request, context) }
    }

    static func wantsPage(_ request: Request) -> Bool {
        let path = request.uri.path
        guard AuthorizationMiddleware.isDashboardRoute(path), path != "/ui/events", !path.hasPrefix("/ui/static/") else { return false }
        return request.headers[.accept]?.contains("text/html") == true
    }
}

enum APIResponse {
    /// Set while serving a browser's dashboard request (its path): errors answer as a page.
    @TaskLocal static var pageFor: String?

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        do {
            let data = try SlipwayJSON.encoder().encode(value)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            // Never a 200 with `null`: the answer could not be encoded, which is the daemon's failure.
            return Response(status: .internalServerError, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: Self.unencodable)))
        }
    }

    static let unencodable = #"{"error":{"code":"internal","message":"the daemon could not encode its answer; see its log"}}"#

    /// Any error as the API answers it.
    static func from(_ error: any Error, path: String) -> Response {
        switch error {
        case let error as SlipwayError:
            return APIResponse.error(error)
        case let error as DecodingError:
            return APIResponse.error(SlipwayError(.usage, "the request body is not valid", cause: "\(error)"))
        case let error as Forbidden:
            return failure(SlipwayError(.policy, error.message), status: .forbidden)
        case let error as HTTPError:
            let code: SlipwayError.Code = error.status == .notFound ? .notFound : (error.status.code < 500 ? .usage : .internal)
            return APIResponse.error(SlipwayError(code, error.body ?? "\(error.status)"))
        default:
            return APIResponse.error(SlipwayError(.internal, "the daemon failed to handle \(path)", cause: error))
        }
    }

    static func error(_ error: SlipwayError) -> Response {
        failure(error, status: status(error.code))
    }

    /// An error answer: `{"error": …}`, or the dashboard's error page for a browser (see `BrowserErrorMiddleware`).
    static func failure(_ error: SlipwayError, status: HTTPResponse.Status) -> Response {
        if let path = pageFor {
            return APIRoutes.html(Dashboard.errorPage(status: status.code, message: error.message, path: path), status: status)
        }
        return json(ErrorBody(error: error), status: status)
    }

    static func status(_ code: SlipwayError.Code) -> HTTPResponse.Status {
        switch code {
        case .usage: .badRequest
        case .policy: .conflict
        case .notFound: .notFound
        case .failed: .unprocessableContent
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        do {
            return try SlipwayJSON.decoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw SlipwayError(.usage, "the request body is not a valid \(T.self)", cause: error)
        }
    }
}

/// A request refused as forbidden (403) rather than by a policy's state (409): a dashboard form without its
/// session's CSRF token.
struct Forbidden: Error {
    var message: String
}
