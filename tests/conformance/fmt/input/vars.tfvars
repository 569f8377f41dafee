region="eu-west-1"
replicas    =     3
tags = {
team="core"
    env = "dev"
}
zones=["a","b"]
