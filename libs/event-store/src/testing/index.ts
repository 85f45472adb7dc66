export {
  DEFAULT_TEST_POSTGRES_URL,
  describePostgres,
  dropTestSchema,
  testPostgresUrl,
  uniqueTestSchema,
} from './postgres';
