package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	host        = "127.0.0.1"
	clusterName = "active"
	namespace   = "bench"
	// The workflow's review task is recorded as this custom search attribute (the candidate group).
	reviewGroupAttribute = "ReviewGroup"
)

// sqlitePragmas are the same durability as Lifeline's store and the bpmn-engine row: WAL, no fsync per commit.
var sqlitePragmas = map[string]string{"journal_mode": "wal", "synchronous": "NORMAL"}

// inProcessServer is a whole Temporal server (frontend, history, matching, worker services) in this
// process on one SQLite file, set up the way the Temporal CLI's `server start-dev --db-filename` does.
type inProcessServer struct {
	server       temporal.Server
	frontendPort int
}

func freePort() (int, error) {
	listener, err := net.Listen("tcp", host+":0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = listener.Close() }()
	return listener.Addr().(*net.TCPAddr).Port, nil
}

func sqlConfig(file string) (*config.SQL, error) {
	attributes := map[string]string{"mode": "rwc"}
	for k, v := range sqlitePragmas {
		attributes[k] = v
	}
	sql := &config.SQL{PluginName: sqliteplugin.PluginName, DatabaseName: file, ConnectAttributes: attributes}
	if _, err := os.Stat(file); os.IsNotExist(err) {
		if _, err := os.Stat(filepath.Dir(file)); err != nil {
			return nil, fmt.Errorf("directory of %s: %w", file, err)
		}
		if err := sqliteschema.SetupSchema(sql); err != nil {
			return nil, fmt.Errorf("schema of %s: %w", file, err)
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, namespace, false,
		map[string]enumspb.IndexedValueType{reviewGroupAttribute: enumspb.INDEXED_VALUE_TYPE_KEYWORD})
	if err != nil {
		return nil, err
	}
	if err := sqliteschema.CreateNamespaces(sql, ns); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", namespace, err)
	}
	return sql, nil
}

func startServer(file string) (*inProcessServer, error) {
	sql, err := sqlConfig(file)
	if err != nil {
		return nil, err
	}
	ports := map[primitives.ServiceName]int{}
	for _, service := range []primitives.ServiceName{
		primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService,
	} {
		if ports[service], err = freePort(); err != nil {
			return nil, err
		}
	}
	frontend := host + ":" + strconv.Itoa(ports[primitives.FrontendService])

	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sql}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for service, port := range ports {
		conf.Services[string(service)] = config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: host}}
		hosts[service] = static.SingleLocalHost(host + ":" + strconv.Itoa(port))
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend

	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "error"}))
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, err
	}
	// The default rate limits (10 visibility calls/s per namespace, 2400 calls/s) would cap the run, not the engine.
	unlimited := 1_000_000
	dynamic := dynamicconfig.StaticClient{
		dynamicconfig.FrontendRPS.Key():                                  unlimited,
		dynamicconfig.FrontendMaxNamespaceRPSPerInstance.Key():           unlimited,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): unlimited,
		dynamicconfig.FrontendPersistenceMaxQPS.Key():                    unlimited,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():                     unlimited,
		dynamicconfig.MatchingPersistenceMaxQPS.Key():                    unlimited,
		dynamicconfig.VisibilityPersistenceMaxReadQPS.Key():              unlimited,
		dynamicconfig.VisibilityPersistenceMaxWriteQPS.Key():             unlimited,
	}
	server, err := temporal.NewServer(
		temporal.WithConfig(&conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamic),
	)
	if err != nil {
		return nil, err
	}
	if err := server.Start(); err != nil {
		return nil, err
	}
	return &inProcessServer{server: server, frontendPort: ports[primitives.FrontendService]}, nil
}

func (s *inProcessServer) hostPort() string { return host + ":" + strconv.Itoa(s.frontendPort) }

func (s *inProcessServer) stop() { _ = s.server.Stop() }
