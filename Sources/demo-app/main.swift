import DemoApp

try await DemoApp.main(arguments: Array(CommandLine.arguments.dropFirst()))
