export { DEFAULT_TEST_POSTGRES_URL, dropTestSchema, testPostgresUrl, uniqueTestSchema } from './postgres';
