/* placeholder: replaced by the real Check suite */
int main(void)
{
    return 0;
}
