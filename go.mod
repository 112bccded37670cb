module github.com/hookline/hookline

go 1.26.8

require (
	github.com/oklog/ulid/v2 v2.1.2
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.6 // indirect
