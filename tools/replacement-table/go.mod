module golive.dev/tools/replacementtable

go 1.22
