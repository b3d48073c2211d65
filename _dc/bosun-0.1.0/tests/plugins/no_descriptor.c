/* A module without the bosun_plugin symbol: bosund must refuse it. */
int not_a_bosun_plugin(void);

int not_a_bosun_plugin(void)
{
    return 42;
}
